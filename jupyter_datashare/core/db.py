"""Engine, sessions and migrations.

SQLite is the default. Its transactions are started by us (``BEGIN`` / ``BEGIN IMMEDIATE``)
so that writers take the write lock up front: the audit log reads its head and appends in one
transaction, and two processes (the server and a notebook kernel) must never interleave there.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, busy_timeout_ms: int = 10_000) -> Engine:
    is_sqlite = url.startswith("sqlite")
    kwargs = {"connect_args": {"check_same_thread": False}} if is_sqlite else {}
    engine = create_engine(url, future=True, **kwargs)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _configure(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so an acknowledged audit
            # event survives a power cut.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def immediate(engine: Engine) -> Engine:
    """The engine whose transactions take the write lock when they begin (cached per engine)."""
    bound = engine.__dict__.get("_datashare_immediate")
    if bound is None:
        bound = engine._datashare_immediate = engine.execution_options(sqlite_begin="IMMEDIATE")
    return bound


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A transaction holding the write lock from its start; commits on success."""
    with Session(immediate(engine), expire_on_commit=False) as session:
        with session.begin():
            yield session


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
