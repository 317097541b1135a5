"""Shared fixtures: a real jupyter-server with the extension, a manual clock, a server root."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from jupyter_datashare.core.clock import ManualClock
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

pytest_plugins = ("pytest_jupyter.jupyter_server",)

OWNER = "ada-owner"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def server_root(tmp_path):
    root = tmp_path / "root_dir"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture
def ds_config():
    """Per-test overrides of c.DataShareApp (a test may update this dict before the server starts)."""
    return {"failed_lookups_per_client": 1000, "failed_lookups_overall": 100_000}


def server_config(clock, ds_config: dict, **server) -> dict:
    """The test server's configuration; ``server`` adds c.ServerApp options (e.g. trust_xheaders)."""
    return {
        "ServerApp": {
            # terminals is switched off: its handler trips jupyter-server's own auth warning.
            "jpserver_extensions": {"jupyter_datashare": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
            # A shared server, as on JupyterHub: the token is the owner (ada-owner), and bob and
            # carol are other Jupyter users with tokens of their own (committee members).
            "identity_provider_class": "tests.server.identities.ThreeUsers",
            **server,
        },
        "DataShareApp": {"owner": OWNER, "owner_identities": [OWNER], "clock": clock, **ds_config},
    }


@pytest.fixture
def jp_server_config(clock, ds_config):
    return server_config(clock, ds_config)


@pytest.fixture
def ctx(jp_serverapp):
    """The core object of the running server (same database and store)."""
    return jp_serverapp.web_app.settings["datashare"]


@pytest.fixture
def core(tmp_path, clock, server_root):
    """A core without a server, for unit tests of the core modules."""
    ds = DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner=OWNER,
                            owner_identities=(OWNER,)), clock)  # fmt: skip
    yield ds
    ds.close()


class Client:
    """Calls the server as the owner (token) or as an anonymous browser."""

    def __init__(self, fetch):
        self.fetch = fetch

    async def __call__(self, method, *parts, body=None, anon=False, headers=None, params=None, raw_body=None):
        hdrs = dict(headers or {})
        if anon:
            hdrs.setdefault("Authorization", "")
        kwargs = {"method": method, "headers": hdrs, "raise_error": False, "follow_redirects": False}
        if params:
            kwargs["params"] = params
        if raw_body is not None:
            kwargs["body"] = raw_body
        elif body is not None:
            kwargs["body"] = json.dumps(body)
            if method == "DELETE":
                kwargs["allow_nonstandard_methods"] = True
        elif method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = "{}"
        elif method == "DELETE":
            kwargs["allow_nonstandard_methods"] = True
        return await self.fetch(*parts, **kwargs)

    async def json(self, method, *parts, expect=200, **kw):
        r = await self(method, *parts, **kw)
        assert r.code == expect, (r.code, r.body[:500])
        return json.loads(r.body)


@pytest.fixture
def call(jp_fetch):
    return Client(jp_fetch)


@pytest.fixture
def make_files(server_root):
    def make(files: dict[str, bytes | str]):
        for rel, content in files.items():
            p = server_root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content.encode() if isinstance(content, str) else content)
        return server_root

    return make


@pytest.fixture
def share(call, make_files):
    """Share something through the HTTP API and return the owner view."""

    async def do(path="data", files=None, **body):
        if files is None:
            files = {"data/table.csv": "id,value\n1,10\n2,20\n", "data/notes/readme.txt": "about the data\n"}
        make_files(files)
        payload = {"path": path, "title": body.pop("title", "Field measurements"), **body}
        return await call.json("POST", "datashare", "api", "datasets", body=payload, expect=201)

    return do


async def link_for(call, dataset_id, **body):
    return await call.json("POST", "datashare", "api", "datasets", dataset_id, "links", body=body, expect=201)


def path_of(url: str) -> list[str]:
    """Split a generated absolute URL into jp_fetch path parts (after the base URL)."""
    from urllib.parse import unquote, urlparse

    path = unquote(urlparse(url).path)
    idx = path.index("/datashare/")
    return path[idx + 1 :].split("/")
