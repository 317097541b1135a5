"""Shared fixtures: a real jupyter-server with the extension, a manual clock, a server root.

``DATASHARE_TEST_DB_URL`` (a PostgreSQL server URL, as scripts/postgres.sh prints) runs the suite
on PostgreSQL: every data folder a test uses gets a fresh database of its own, dropped afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import datetime, timezone

import pytest

from jupyter_datashare.core.clock import ManualClock
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings, default_data_dir

pytest_plugins = ("pytest_jupyter.jupyter_server",)

OWNER = "ada-owner"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


TEST_DB_URL = os.environ.get("DATASHARE_TEST_DB_URL", "")
ON_POSTGRES = TEST_DB_URL.startswith("postgresql")
_databases: dict[str, str] = {}  # data folder -> URL of its database, for the running test
_numbers = itertools.count(1)
_admin = None


def sqlite_only(reason: str):
    """Marks a test about SQLite itself (its file, PRAGMAs, locks): skipped on PostgreSQL."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"SQLite only: {reason}")


def _admin_engine():
    global _admin
    if _admin is None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        _admin = create_engine(TEST_DB_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    return _admin


def db_url_for(data_dir) -> str:
    """The database of a data folder: "" (SQLite in that folder), or under DATASHARE_TEST_DB_URL a
    fresh PostgreSQL database, the same one each time the test asks for the same folder."""
    if not TEST_DB_URL:
        return ""
    key = os.path.abspath(str(data_dir))
    if key not in _databases:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = f"dstest_{os.getpid()}_{next(_numbers)}"
        with _admin_engine().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _databases[key] = make_url(TEST_DB_URL).set(database=name).render_as_string(hide_password=False)
    return _databases[key]


@pytest.fixture(autouse=True)
def _database_per_data_dir():
    """On PostgreSQL, every ``Settings`` without a db_url (server, core, CLI, notebook alike) gets
    its data folder's database; all of them are dropped when the test ends."""
    if not TEST_DB_URL:
        yield
        return
    plain = Settings.__post_init__

    def post_init(self):
        if not self.db_url:
            self.data_dir = self.data_dir or default_data_dir()
            # A folder that already holds a SQLite database (an old store a migration test built)
            # stays on it: such tests are about SQLite stores.
            known = os.path.abspath(self.data_dir) in _databases
            if known or not os.path.exists(os.path.join(self.data_dir, "datashare.sqlite")):
                self.db_url = db_url_for(self.data_dir)
        plain(self)

    patch = pytest.MonkeyPatch()  # not the test's own: a test's monkeypatch.undo() must leave it
    patch.setattr(Settings, "__post_init__", post_init)
    yield
    patch.undo()
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    made = list(_databases.values())
    _databases.clear()
    with _admin_engine().connect() as conn:
        for url in made:
            # FORCE: a server thread or subprocess of the test may still hold a connection.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


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


def listening(jp_asyncio_loop, http_server_port, jp_web_app, *, xheaders: bool):
    """pytest-jupyter's test server, listening as ServerApp does with trust_xheaders (pytest-jupyter's
    own ignores that option); tests that need it yield from this in an ``http_server`` fixture."""
    import tornado.httpserver

    async def start():
        server = tornado.httpserver.HTTPServer(jp_web_app, xheaders=xheaders)
        server.add_socket(http_server_port[0])
        return server

    server = jp_asyncio_loop.run_until_complete(start())
    yield server
    server.stop()
    http_server_port[0].close()
