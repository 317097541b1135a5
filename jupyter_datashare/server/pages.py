"""Server-rendered HTML for people with a browser and no JupyterLab: escaped, no JavaScript."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from ..core.policy import LEVEL_SUMMARIES


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


class Pages:
    def __init__(self):
        self.env = Environment(
            loader=PackageLoader("jupyter_datashare.server", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.env.filters["human_size"] = human_size
        self.env.globals["level_summaries"] = LEVEL_SUMMARIES

    def render(self, name: str, **ns) -> str:
        return self.env.get_template(name).render(**ns)
