"""The notebook API: ``import jupyter_datashare as ds``.

    ds.share("results/", title="Field measurements", level="reviewer-only")
    ds.share(df, title="Cleaned table", name="table", format="csv")
    link = ds.link("ds-…", label="Reviewer 2", days=60)
    df = ds.read("ds-…", "table.csv")            # or ds.read(link.url)

It works on the same database and store as the Jupyter server (SQLite in WAL mode with
write-locking transactions, so the kernel and the server can both write), or, with
``c.DataShareApp.service_url`` (client mode), against the datashare service: the files are
uploaded there and the links are the service's. Same validation, same audit log, one interface
(``backends``) either way.
"""

from __future__ import annotations

import html
import io
import os
import re
from dataclasses import dataclass

from . import config
from .backends import Backend, open_backend
from .core.errors import InvalidInput

CLIENT = "notebook"
_FORMATS = {"csv": ".csv", "tsv": ".tsv", "parquet": ".parquet", "jsonl": ".jsonl", "excel": ".xlsx"}
_context: Backend | None = None


def _running_server() -> dict | None:
    """The Jupyter server this kernel most likely belongs to (its root and URL)."""
    try:
        from jupyter_server.serverapp import list_running_servers

        servers = list(list_running_servers())
    except Exception:  # no runtime dir, unreadable files: work without one
        return None
    cwd = os.path.realpath(os.getcwd())
    for info in servers:
        root = os.path.realpath(info.get("root_dir", ""))
        if root and (cwd == root or cwd.startswith(root + os.sep)):
            return info
    return servers[0] if len(servers) == 1 else None


def connect(root_dir: str | None = None, data_dir: str | None = None, db_url: str | None = None,
            owner: str | None = None, base_url: str | None = None, clock=None,
            master_key_file: str | None = None, signing_key_file: str | None = None,
            service_url: str | None = None, service_token_file: str | None = None) -> Backend:  # fmt: skip
    """Open the store (automatic on first use) with the Jupyter server's configuration
    (``c.DataShareApp.*`` in jupyter_server_config.py, the environment); the arguments given
    override it. The root and URL follow the running Jupyter server. With a ``service_url``, the
    datashare service is used instead of a store here."""
    global _context
    server = _running_server() or {}

    def path(p):
        return os.path.abspath(os.path.expanduser(p)) if p else None

    options = config.load(data_dir=path(data_dir), db_url=db_url or None, owner=owner or None, clock=clock,
                          master_key_file=path(master_key_file), signing_key_file=path(signing_key_file),
                          service_url=service_url or None, service_token_file=path(service_token_file))  # fmt: skip
    root = root_dir or server.get("root_dir") or config.server_root_dir(options) or os.getcwd()
    url = base_url or config.public_url(options) or server.get("url") or "http://localhost:8888/"
    if _context is not None:
        _context.close()
        _context = None
    _context = open_backend(options, os.path.abspath(os.path.expanduser(root)), client=CLIENT, base_url=url)
    return _context


def _ctx() -> Backend:
    return _context or connect()


@dataclass
class Dataset:
    """A shared dataset; shows as a small card in the notebook."""

    info: dict

    def __getattr__(self, name):
        try:
            return self.info[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def url(self) -> str:
        return self.info["landing_page"]

    def _repr_html_(self) -> str:
        i, e = self.info, html.escape
        files = "".join(f"<li><code>{e(f['path'])}</code> ({f['size']:,} bytes)</li>" for f in i["files"][:8])
        more = f"<li>… {len(i['files']) - 8} more</li>" if len(i["files"]) > 8 else ""
        level = i["access"]["level_in_force"]
        link_count = len(_ctx().links(i["id"]))
        return (f"<div style='border:1px solid var(--jp-border-color1,#ccc);border-radius:6px;padding:8px 12px'>"
                f"<b>{e(i['title'])}</b> <code>{e(i['id'])}</code> · <span>{e(level)}</span> · version {i['version']}"
                f" · {i['file_count']} files, {i['total_size']:,} bytes · {link_count} review link(s)"
                f"<ul style='margin:4px 0'>{files}{more}</ul><a href='{e(self.url)}' target='_blank'>landing page</a></div>")  # fmt: skip

    def __repr__(self) -> str:
        return f"<Dataset {self.info['id']} '{self.info['title']}' {self.info['access']['level_in_force']}>"


@dataclass
class ReviewLink:
    info: dict
    url: str | None = None  # only right after creation: the secret is never stored

    def __repr__(self) -> str:
        return f"<ReviewLink {self.info['id']} expires {self.info['expires_at']}{' ' + self.url if self.url else ''}>"


def _write_frame(df, root: str, name: str, fmt: str) -> str:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidInput("data", "must be a path or a pandas DataFrame")
    if fmt not in _FORMATS:
        raise InvalidInput("format", f"must be one of {', '.join(_FORMATS)}")
    bad = [str(c) for c in df.columns if df[c].dtype == object and df[c].map(lambda x: isinstance(x, (dict, list, set, bytes))).any()]
    if bad and fmt in ("csv", "tsv", "excel"):
        raise InvalidInput("data", f"column(s) {', '.join(bad)} hold objects that {fmt} cannot store; use jsonl or parquet")
    if not re.fullmatch(r"[\w.-]+", name) or name.startswith("."):
        raise InvalidInput("name", "must be a plain file name (letters, digits, '-', '_', '.')")
    folder = os.path.join(root, "shared-data")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + _FORMATS[fmt])
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True)
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_excel(path, index=False)
    return os.path.relpath(path, root)


def share(data, title: str, *, level: str = "open", embargo_until: str | None = None, after_embargo: str | None = None,
          name: str | None = None, format: str = "csv", **metadata) -> Dataset:  # noqa: A002  # fmt: skip
    """Share a file or folder (a path relative to the server root) or a DataFrame, in one call."""
    ctx = _ctx()
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if os.path.isabs(path) and path.startswith(ctx.root_dir.rstrip(os.sep) + os.sep):
            path = os.path.relpath(path, ctx.root_dir)
    else:
        path = _write_frame(data, ctx.root_dir, name or re.sub(r"\W+", "-", title.lower()).strip("-"), format)
    access = {"level": level, **({"embargo_until": embargo_until} if embargo_until else {}),
              **({"after_embargo": after_embargo} if after_embargo else {})}  # fmt: skip
    return Dataset(ctx.share({"path": path, "title": title, "access": access, **metadata}))


def dataset(dataset_id: str) -> Dataset:
    return Dataset(_ctx().dataset(dataset_id))


def list_datasets(search: str | None = None, level: str | None = None, limit: int | None = None,
                  include_withdrawn: bool = False) -> list[Dataset]:  # fmt: skip
    """Your datasets, newest first: all of them (page after page), or the ``limit`` newest;
    ``search`` keeps those whose title contains it, ``level`` those of one access level."""
    found = _ctx().datasets(include_withdrawn, q=search, level=level, limit=limit)
    return [dataset(d["id"]) for d in found]


def link(dataset_id: str, label: str = "", days: int | None = None, anonymous: bool = False,
         allow_restricted: bool = False) -> ReviewLink:  # fmt: skip
    body = {"label": label, "anonymous": anonymous, "allow_restricted": allow_restricted}
    if days is not None:
        body["expires_in_days"] = days
    out = _ctx().create_link(dataset_id, body)
    return ReviewLink({k: v for k, v in out.items() if k != "url"}, out["url"])


def revoke(link_id: str) -> ReviewLink:
    return ReviewLink(_ctx().revoke_link(link_id))


def cite(dataset_id: str, format: str = "text", publisher: str | None = None):  # noqa: A002
    """Citation (``text``, ``bibtex``, ``datacite``) or a statement (``availability``, ``rights``)."""
    keys = {"text": "text", "bibtex": "bibtex", "datacite": "datacite", "availability": "availability_statement",
            "rights": "rights_statement"}  # fmt: skip
    if format not in keys:
        raise InvalidInput("format", f"must be one of {', '.join(keys)}")
    return _ctx().citation(dataset_id, publisher)[keys[format]]


def read(source: str, path: str | None = None, **pandas_kwargs):
    """Read a dataset file into a DataFrame: by dataset id (yours), or by a review link or grant
    download URL (``…/datashare/g/dsg_…/files/table.csv``).

    Goes through the same read function as the server, so non-open reads are audited.
    """
    import pandas as pd

    ctx = _ctx()
    path, raw = ctx.read_link(source, path) if "://" in source else ctx.read_file(source, path)
    data = io.BytesIO(raw)
    ext = path.rsplit(".", 1)[-1].lower()
    if ext in ("csv", "txt"):
        return pd.read_csv(data, **pandas_kwargs)
    if ext == "tsv":
        return pd.read_csv(data, sep="\t", **pandas_kwargs)
    if ext in ("jsonl", "ndjson"):
        return pd.read_json(data, lines=True, **pandas_kwargs)
    if ext == "json":
        return pd.read_json(data, **pandas_kwargs)
    if ext == "parquet":
        return pd.read_parquet(data, **pandas_kwargs)
    if ext in ("xlsx", "xls"):
        return pd.read_excel(data, **pandas_kwargs)
    raise InvalidInput("path", f"'{path}' is not a table format pandas reads here (csv, tsv, json, jsonl, parquet, xlsx)")
