"""Tests that reach past the core into its database (to tamper with it, to hold its write lock,
to look for a secret in it), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from sqlalchemy import MetaData, create_engine, event, select
from sqlalchemy.pool import NullPool

from jupyter_datashare.core.db import WRITE_LOCK


def url_of(ctx_or_url) -> str:
    return ctx_or_url if isinstance(ctx_or_url, str) else ctx_or_url.settings.db_url


def is_sqlite(ctx_or_url) -> bool:
    return url_of(ctx_or_url).startswith("sqlite")


def sqlite_file(ctx_or_url) -> str:
    return url_of(ctx_or_url).removeprefix("sqlite:///")


def _statement(stmt) -> tuple[str, tuple]:
    return (stmt, ()) if isinstance(stmt, str) else (stmt[0], tuple(stmt[1]))


def execute(ctx_or_url, *statements) -> None:
    """Run SQL statements (text, or (text, parameters) with ``?`` placeholders) in one
    transaction from outside the core, as an intruder with the database would."""
    if is_sqlite(ctx_or_url):
        con = sqlite3.connect(sqlite_file(ctx_or_url))
        for stmt in statements:
            con.execute(*_statement(stmt))
        con.commit()
        con.close()
        return
    engine = create_engine(url_of(ctx_or_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for stmt in statements:
                sql, params = _statement(stmt)
                conn.exec_driver_sql(sql.replace("?", "%s"), params)
    finally:
        engine.dispose()


def rows(ctx_or_url, sql: str, params=()) -> list[tuple]:
    """The rows of one query (``?`` placeholders), read from outside the core."""
    if is_sqlite(ctx_or_url):
        con = sqlite3.connect(sqlite_file(ctx_or_url))
        try:
            return [tuple(r) for r in con.execute(sql, tuple(params))]
        finally:
            con.close()
    engine = create_engine(url_of(ctx_or_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql.replace("?", "%s"), tuple(params))]
    finally:
        engine.dispose()


def all_bytes(ctx_or_url) -> bytes:
    """Everything the database holds: SQLite's files (with the WAL), or every row of every table."""
    import os

    if is_sqlite(ctx_or_url):
        path = sqlite_file(ctx_or_url)
        return b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))
    engine = create_engine(url_of(ctx_or_url), poolclass=NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return b"\n".join(v if isinstance(v, bytes) else str(v).encode()
                               for t in meta.sorted_tables for r in conn.execute(select(t)) for v in r)  # fmt: skip
    finally:
        engine.dispose()


@contextmanager
def write_locked(ctx, wait_ms: int | None = 50, exclusive: bool = False):
    """Hold the database's write lock from outside, as a busy notebook kernel would; ``wait_ms``
    shortens how long the core's writers wait for it (None: keep the configured wait).

    ``exclusive``: on SQLite, readers are shut out as well (BEGIN EXCLUSIVE)."""
    if wait_ms is not None:
        ctx.engine.dispose()

        @event.listens_for(ctx.engine, "connect")
        def short_wait(dbapi_conn, _rec):
            if is_sqlite(ctx):
                dbapi_conn.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            else:
                with dbapi_conn.cursor() as cur:
                    cur.execute(f"SET lock_timeout = {int(wait_ms)}")
                dbapi_conn.commit()

    if is_sqlite(ctx):
        blocker = sqlite3.connect(sqlite_file(ctx), isolation_level=None)
        blocker.execute("PRAGMA busy_timeout=0")
        blocker.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(ctx.settings.db_url)
    blocker = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)
    blocker.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
    try:
        yield
    finally:
        blocker.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
        blocker.close()
