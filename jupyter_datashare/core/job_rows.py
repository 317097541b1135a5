"""The ``jobs`` table (models.JobRecord): how a job's row is written and read, by every process.

core/jobs.py runs the jobs and decides when to write; this module only speaks SQL. Every write
is a short transaction of its own on a plain connection: it takes none of the audit's locks (no
PostgreSQL advisory lock), and on SQLite it waits ``BUSY_MS`` at most for the write lock.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Engine, Row

from .db import make_engine, reader
from .models import JobRecord

T = JobRecord.__table__
RUNNING = "running"
# On SQLite, how long a jobs write waits for the database's write lock before the next tick retries.
BUSY_MS = 1000


def jobs_engine(engine: Engine) -> Engine:
    """Where the jobs are written. On an SQLite file: a pool of its own that waits BUSY_MS for the
    write lock and skips the fsync of each commit (a power cut may forget the last progress of a
    job; never an audit event, which these connections never write). Elsewhere: ``engine``."""
    url = engine.url
    if engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    own = make_engine(url.render_as_string(hide_password=False), BUSY_MS)

    @event.listens_for(own, "connect")
    def _relaxed(dbapi_conn, _record):  # after make_engine's own set-up (synchronous=FULL)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return own


def forgotten(now: float, keep_seconds: float, stale_seconds: float):
    """Rows to forget: finished over keep_seconds ago, or silent that long past going stale."""
    return or_(and_(T.c.state != RUNNING, T.c.heartbeat_at <= now - keep_seconds),
               T.c.heartbeat_at <= now - keep_seconds - stale_seconds)  # fmt: skip


def prune(conn, now: float, keep_seconds: float, stale_seconds: float) -> None:
    conn.execute(delete(T).where(forgotten(now, keep_seconds, stale_seconds)))


def save(conn, changes: dict, first: dict) -> None:
    """Update a job's row with ``changes``, or insert it with ``first`` (what never changes) too.

    An update first: a row whose insert went through unacknowledged is not made twice, and one
    pruned meanwhile (its process was silent for very long) is made again."""
    if conn.execute(update(T).where(T.c.id == first["id"]).values(**changes)).rowcount == 0:
        conn.execute(insert(T).values(**first, **changes))


def load(engine: Engine, job_id: str, now: float, keep_seconds: float, stale_seconds: float) -> Row | None:
    if not isinstance(job_id, str) or len(job_id) > T.c.id.type.length or "\x00" in job_id:
        return None  # no such job (and PostgreSQL refuses a NUL in a query)
    with reader(engine).connect() as conn:
        return conn.execute(select(T).where(T.c.id == job_id, ~forgotten(now, keep_seconds, stale_seconds))).first()


def count(engine: Engine, now: float, keep_seconds: float, stale_seconds: float) -> int:
    with reader(engine).connect() as conn:
        return conn.scalar(select(func.count()).select_from(T).where(~forgotten(now, keep_seconds, stale_seconds)))


def ask_to_stop(engine: Engine, job_id: str) -> None:
    """Set the flag the process running the job reads; a finished job stays as it is."""
    with engine.begin() as conn:
        conn.execute(update(T).where(T.c.id == job_id, T.c.state == RUNNING).values(cancel_requested=True))


def asked_to_stop(engine: Engine, job_ids: list[str]) -> set[str]:
    with reader(engine).connect() as conn:
        return set(conn.scalars(select(T.c.id).where(T.c.id.in_(job_ids), T.c.cancel_requested.is_(True))))
