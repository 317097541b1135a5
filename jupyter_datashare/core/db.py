"""Engine, sessions and migrations.

SQLite is the default. Its transactions are started by us (``BEGIN`` / ``BEGIN IMMEDIATE``)
so that writers take the write lock up front: the audit log reads its head and appends in one
transaction, and two processes (the server and a notebook kernel) must never interleave there.

PostgreSQL has no database-wide write lock, and its default isolation lets two transactions read
the same audit head: both then append the same sequence number. So every write transaction
starts by taking one transaction-scoped advisory lock (``WRITE_LOCK``), held until it commits or
rolls back, in every process on that database: writers queue exactly as on SQLite, readers never
wait. ``db_busy_timeout_ms`` bounds the wait on both (SQLite's busy timeout, PostgreSQL's
``lock_timeout``).
"""

from __future__ import annotations

import select
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from .errors import DataShareError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


# The advisory lock key of datashare's writers (any constant; b"dshare" read as an integer).
WRITE_LOCK = 0x647368617265
_WRITE_OPTION = "datashare_write"

# PostgreSQL errors after which a whole transaction may simply run again.
RETRYABLE_SQLSTATES = ("40001", "40P01")  # serialization_failure, deadlock_detected


def is_retryable(exc: BaseException) -> bool:
    """A serialization failure or a deadlock: the transaction was rolled back and may be retried."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in RETRYABLE_SQLSTATES


def make_engine(url: str, busy_timeout_ms: int = 10_000) -> Engine:
    is_sqlite = url.startswith("sqlite")
    is_postgres = url.startswith("postgresql")
    kwargs = {}
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        # Every thread of a server (public, owner, jobs, group commit) may hold one at once. With
        # SQLAlchemy's 5, a crowd of downloads opened and closed overflow connections all the time,
        # each with its PRAGMAs; an idle SQLite connection costs a little memory, nothing more.
        kwargs["pool_size"], kwargs["max_overflow"] = 48, 32
    elif is_postgres:
        # A writer waits for the write lock as long as SQLite's busy timeout, then fails.
        kwargs["connect_args"] = {"options": f"-c lock_timeout={int(busy_timeout_ms)}"}
        # Threads of one server (group commit, downloads, jobs) each hold a connection at times;
        # kept fewer than SQLite's (a backend each, and max_connections is 100 by default).
        kwargs["pool_size"], kwargs["max_overflow"] = 20, 20
    engine = create_engine(url, future=True, **kwargs)
    if is_postgres:
        _replace_ended_connections(engine)

        @event.listens_for(engine, "begin")
        def _lock_writers(conn):
            if conn.get_execution_options().get(_WRITE_OPTION):
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
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
            if mode is not None:  # None: the reader's autocommit (see ``reader``)
                conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


# A pooled connection idle longer than this is replaced rather than trusted: a firewall or a
# proxy may have dropped it without a word (no FIN reached us, so its socket looks fine).
IDLE_REPLACE_SECONDS = 60.0


def _replace_ended_connections(engine: Engine) -> None:
    """A database restart, or the server ending a backend, must cost the next request a new
    connection, not a 500 (tests/core/test_db.py) — without SQLAlchemy's pre-ping, a round trip
    on every checkout (six per download). An idle connection's socket has nothing to read unless
    the server ended it (its farewell, or end of file): one non-blocking poll, no round trip."""

    @event.listens_for(engine.pool, "checkin")
    def _idle_since(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _check_alive(dbapi_conn, record, proxy):
        idle = time.monotonic() - record.info.get("idle_since", time.monotonic())
        try:
            ended = bool(select.select([dbapi_conn.fileno()], [], [], 0)[0])
        except (OSError, ValueError, AttributeError):
            ended = True  # closed already
        if ended or idle > IDLE_REPLACE_SECONDS:
            raise DisconnectionError("the database ended this connection; taking a new one")  # the pool retries


def reader(engine: Engine) -> Engine:
    """The engine of read sessions (cached per engine), in autocommit: on PostgreSQL, under READ
    COMMITTED every statement has a snapshot of its own anyway, so a read transaction's BEGIN and
    ROLLBACK were two round trips for nothing; SQLite then gives each statement its own snapshot
    too (the same reads, alike on both), and a download no longer pays for a BEGIN through
    SQLAlchemy's machinery (the largest item of its profile). A read that needs one snapshot
    for several statements uses ``snapshot`` (audit verify)."""
    bound = engine.__dict__.get("_datashare_reader")
    if bound is None:
        if engine.dialect.name == "postgresql":
            bound = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            bound = engine.execution_options(sqlite_begin=None)
        engine._datashare_reader = bound
    return bound


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    with Session(reader(engine), expire_on_commit=False) as session:
        yield session


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """One read transaction that sees the database as it was at one moment, whatever commits
    meanwhile: SQLite (WAL) fixes it at the transaction's first read; PostgreSQL needs
    REPEATABLE READ (its default gives each statement a snapshot of its own)."""
    if engine.dialect.name == "sqlite":
        with Session(engine, expire_on_commit=False) as session:  # BEGIN DEFERRED
            yield session
        return
    with reading(engine) as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


def immediate(engine: Engine) -> Engine:
    """The engine whose transactions take the write lock when they begin (cached per engine)."""
    bound = engine.__dict__.get("_datashare_immediate")
    if bound is None:
        bound = engine._datashare_immediate = engine.execution_options(sqlite_begin="IMMEDIATE", **{_WRITE_OPTION: True})
    return bound


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A transaction holding the write lock from its start; commits on success."""
    with Session(immediate(engine), expire_on_commit=False) as session:
        with session.begin():
            yield session


class UpgradeFailed(DataShareError):
    """The schema could not be brought to the newest revision; the message says what to do."""

    status = 500


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it on an empty database).

    The whole upgrade is one transaction (SQLite and PostgreSQL both roll DDL back), so a
    failure leaves the database as it was; it raises ``UpgradeFailed`` saying what to do.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # A connection of its own, closed afterwards: its foreign-key setting never reaches the pool.
    connection = immediate(engine).connect()
    try:
        if connection.dialect.name == "sqlite":
            # SQLite's batch mode rebuilds a table (copy, drop, rename): with foreign keys
            # enforced, dropping a table other rows refer to fails. The pragma is a no-op inside a
            # transaction, so it goes to the driver before the upgrade begins its own; env.py
            # checks afterwards that no reference was broken (PRAGMA foreign_key_check).
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    except Exception as exc:
        head = ScriptDirectory.from_config(cfg).get_current_head()
        raise UpgradeFailed(_failure_message(engine, head, exc)) from exc
    finally:
        connection.invalidate()
        connection.close()


def current_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except Exception:  # noqa: BLE001 - only for a message; the database may be unreadable
        return None


def _failure_message(engine: Engine, head: str, exc: Exception) -> str:
    where = engine.url.database if engine.dialect.name == "sqlite" else engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (
        f"the datashare database {where} could not be upgraded from schema {current_revision(engine) or 'none'} "
        f"to {head}: {type(exc).__name__}: {reason[0] if reason else exc!r}\n"
        "The upgrade runs as one transaction, so the database should be as it was before it.\n"
        "What to do: 1. back up the whole data folder (the database, store/, master.key unless kept elsewhere, and "
        "audit-signing.key) before anything else; 2. fix the cause if the error names one (a full disk, "
        "another process holding the database, file permissions) and start again, which retries the "
        "upgrade; 3. if it fails again, keep the previous release of jupyter-datashare running on the "
        "backup and report this message with `pip show jupyter-datashare` to the project's issue tracker."
    )
