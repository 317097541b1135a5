"""The notebook API: ``import jupyter_datashare as ds``.

    ds.share("results/", title="Field measurements", level="reviewer-only")
    ds.share(df, title="Cleaned table", name="table", format="csv")
    link = ds.link("ds-…", label="Reviewer 2", days=60)
    df = ds.read("ds-…", "table.csv")            # or ds.read(link.url)

It works on the same database and store as the Jupyter server (SQLite in WAL mode with
write-locking transactions, so the kernel and the server can both write). Same core, same
validation, same audit log.
"""

from __future__ import annotations

import html
import io
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from . import config
from .core import datasets as _datasets
from .core import links as _links
from .core import policy, reads, views
from .core.errors import InvalidInput, NotFound
from .core.service import DataShare

CLIENT = "notebook"
_FORMATS = {"csv": ".csv", "tsv": ".tsv", "parquet": ".parquet", "jsonl": ".jsonl", "excel": ".xlsx"}
_context: DataShare | None = None
_base_url = "http://localhost:8888/"


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
            master_key_file: str | None = None, signing_key_file: str | None = None) -> DataShare:  # fmt: skip
    """Open the store (automatic on first use) with the Jupyter server's configuration
    (``c.DataShareApp.*`` in jupyter_server_config.py, the environment); the arguments given
    override it. The root and URL follow the running Jupyter server."""
    global _context, _base_url
    server = _running_server() or {}

    def path(p):
        return os.path.abspath(os.path.expanduser(p)) if p else None

    options = config.load(data_dir=path(data_dir), db_url=db_url or None, owner=owner or None, clock=clock,
                          master_key_file=path(master_key_file), signing_key_file=path(signing_key_file))  # fmt: skip
    root = root_dir or server.get("root_dir") or config.server_root_dir(options) or os.getcwd()
    settings = options.core_settings(os.path.abspath(os.path.expanduser(root)))
    _base_url = base_url or config.public_url(options) or server.get("url") or _base_url
    if _context is not None:
        _context.close()
        _context = None
    _context = DataShare(settings, options.clock)
    return _context


def _ctx() -> DataShare:
    return _context or connect()


def _url(*parts: str) -> str:
    return _base_url.rstrip("/") + "/datashare/" + "/".join(parts)


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
        return _url("d", self.info["id"])

    def _repr_html_(self) -> str:
        i, e = self.info, html.escape
        files = "".join(f"<li><code>{e(f['path'])}</code> ({f['size']:,} bytes)</li>" for f in i["files"][:8])
        more = f"<li>… {len(i['files']) - 8} more</li>" if len(i["files"]) > 8 else ""
        level = i["access"]["level_in_force"]
        link_count = len(_links.list_for(_ctx(), _ctx().settings.owner, i["id"]))
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
        if os.path.isabs(path) and path.startswith(ctx.settings.root_dir.rstrip(os.sep) + os.sep):
            path = os.path.relpath(path, ctx.settings.root_dir)
    else:
        path = _write_frame(data, ctx.settings.root_dir, name or re.sub(r"\W+", "-", title.lower()).strip("-"), format)
    access = {"level": level, **({"embargo_until": embargo_until} if embargo_until else {}),
              **({"after_embargo": after_embargo} if after_embargo else {})}  # fmt: skip
    ds_id = _datasets.share(ctx, ctx.settings.owner, {"path": path, "title": title, "access": access, **metadata},
                            client=CLIENT)  # fmt: skip
    return dataset(ds_id)


def dataset(dataset_id: str) -> Dataset:
    ctx = _ctx()
    return Dataset(_datasets.describe_for_owner(ctx, ctx.settings.owner, dataset_id))


def list_datasets() -> list[Dataset]:
    ctx = _ctx()
    return [dataset(d.id) for d in _datasets.list_owned(ctx, ctx.settings.owner)]


def link(dataset_id: str, label: str = "", days: int | None = None, anonymous: bool = False,
         allow_restricted: bool = False) -> ReviewLink:  # fmt: skip
    ctx = _ctx()
    body = {"label": label, "anonymous": anonymous, "allow_restricted": allow_restricted}
    if days is not None:
        body["expires_in_days"] = days
    row, secret = _links.create(ctx, ctx.settings.owner, dataset_id, body, client=CLIENT)
    return ReviewLink(views.link(row, ctx.now()), _url("r", secret))


def revoke(link_id: str) -> ReviewLink:
    ctx = _ctx()
    return ReviewLink(views.link(_links.revoke(ctx, ctx.settings.owner, link_id, client=CLIENT), ctx.now()))


def cite(dataset_id: str, format: str = "text", publisher: str | None = None):  # noqa: A002
    """Citation (``text``, ``bibtex``, ``datacite``) or a statement (``availability``, ``rights``)."""
    from .core import citation

    ctx = _ctx()
    ds = _datasets.load_owned(ctx, ctx.settings.owner, dataset_id)
    v, files = _datasets.version_files(ctx, ds.id, ds.latest_version)
    out = citation.everything(ds, v, files, _url("d", ds.id), publisher or ctx.settings.publisher, ctx.now())
    keys = {"text": "text", "bibtex": "bibtex", "datacite": "datacite", "availability": "availability_statement",
            "rights": "rights_statement"}  # fmt: skip
    if format not in keys:
        raise InvalidInput("format", f"must be one of {', '.join(keys)}")
    return out[keys[format]]


_LINK = re.compile(r"/datashare/(r|g)/(ds[rg]_[A-Za-z0-9_-]{43})(?:/files/(.+))?$")


def _open(source: str, path: str | None):
    ctx = _ctx()
    if "://" in source:
        u = urlparse(source)
        ours = urlparse(_base_url)
        if (u.hostname, u.port) != (ours.hostname, ours.port):
            raise InvalidInput("url", f"is a link of another server ({u.netloc}); this notebook reads {ours.netloc}")
        m = _LINK.search(unquote(u.path))
        if not m:
            raise InvalidInput("url", "is not a review link (…/datashare/r/dsr_…) or a grant link (…/datashare/g/dsg_…)")
        kind, secret, in_url = m.groups()
        if kind == "g":
            from .core import grants

            grant, ds = grants.resolve(ctx, secret, CLIENT)
            return ds, grants.principal(grant), path or in_url
        row, ds, _ = _links.resolve(ctx, secret, CLIENT)
        return ds, _links.principal(row), path or in_url
    ds = _datasets.load_owned(ctx, ctx.settings.owner, source)
    return ds, policy.Principal("owner", ctx.settings.owner), path


def read(source: str, path: str | None = None, **pandas_kwargs):
    """Read a dataset file into a DataFrame: by dataset id (yours), or by a review link or grant
    download URL (``…/datashare/g/dsg_…/files/table.csv``).

    Goes through the same read function as the server, so non-open reads are audited.
    """
    import pandas as pd

    try:
        ds, principal, path = _open(source, path)
    except NotFound:
        raise NotFound("that link or dataset does not exist, has expired or was revoked") from None
    if not path:
        _, files = _datasets.version_files(_ctx(), ds.id, ds.latest_version)
        if len(files) != 1:
            raise InvalidInput("path", f"say which file: {', '.join(f.path for f in files[:10])}")
        path = files[0].path
    fr = reads.open_file(_ctx(), ds, principal, path, client=CLIENT)
    data = io.BytesIO(b"".join(fr.chunks()))
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
