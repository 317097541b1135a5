"""Group commit of the audit log's self-contained appends (the events of reads of data).

Callers appending at the same moment (concurrent downloads) share one durable transaction, so
the log keeps up with many readers although every event is synced before its read goes on. One
caller at a time leads a commit; the others wait for it on a condition, and those whose events
it carried return at once when it ends (never queueing for a lock a commit holds), while one of
the rest leads the next.

A commit is: take the write lock, read the chain's head, append the rows the head leads to,
move the head, count the uses of review links and grants, commit. Through SQLAlchemy that is
seven round trips on PostgreSQL, all of them while every writer of every process waits for the
lock; ``commit_pipelined`` sends the same statements in two (lock and head; the rest and
COMMIT) with psycopg's pipeline mode, the batch's rows as one JSON parameter of one statement.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Callable

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from .db import WRITE_LOCK
from .models import UTCDateTime


class Pending:
    """One caller's event, waiting for the commit that carries it."""

    __slots__ = ("event", "use", "done", "seq", "error")

    def __init__(self, event, use=None):
        self.event, self.use, self.done, self.seq, self.error = event, use, threading.Event(), None, None


class GroupCommit:
    """Runs ``commit(take)`` for waiting callers, one leader at a time. ``commit`` calls
    ``take()`` once it holds the write lock (events that arrived while it waited for the lock
    ride along) and returns the sequence numbers of the batch it took, in order."""

    def __init__(self, commit: Callable[[Callable[[], list[Pending]]], list[int]]):
        self._commit = commit
        self._queue: list[Pending] = []
        self._turn = threading.Condition()  # guards the queue and who leads the next commit
        self._leading = False
        self.commits = 0  # transactions committed, for benchmarks and tests (events per commit)

    def submit(self, event, use=None) -> int:
        pending = Pending(event, use)
        with self._turn:
            self._queue.append(pending)
            while self._leading and not pending.done.is_set():
                self._turn.wait()
            if not pending.done.is_set():
                self._leading = True
        if not pending.done.is_set():
            try:
                self._lead()
            finally:
                with self._turn:
                    self._leading = False
                    self._turn.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.seq

    def _take(self, taken: list[Pending]) -> list[Pending]:
        with self._turn:
            fresh, self._queue = self._queue, []
        taken.extend(fresh)  # a retried commit carries what the failed attempt took, and more
        return list(taken)

    def _lead(self) -> None:
        taken: list[Pending] = []
        try:
            seqs = self._commit(lambda: self._take(taken))
            self.commits += 1
            for p, seq in zip(taken, seqs):
                p.seq = seq
        except BaseException as exc:
            if not taken:  # failed before taking the queue: its waiters must hear too
                self._take(taken)
            for p in taken:
                p.error = exc
        finally:
            for p in taken:
                p.done.set()


def uses_of(batch: list[Pending]) -> dict[tuple, int]:
    """How many of the batch's events are uses of each review link or grant: (table, id) -> n."""
    uses: dict[tuple, int] = {}
    for p in batch:
        if p.use is not None:
            key = (type(p.use).__table__, p.use.id)
            uses[key] = uses.get(key, 0) + 1
    return uses


def count_uses(conn, batch: list[Pending], now) -> None:
    """One UPDATE per capability used in the batch, whatever the number of downloads through it:
    counted in the commit that makes their events durable."""
    for (table, row_id), n in uses_of(batch).items():
        conn.execute(update(table).where(table.c.id == row_id)
                     .values(use_count=table.c.use_count + n, last_used_at=now))  # fmt: skip


# PostgreSQL, in psycopg's own placeholders.
_LOCK = f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_HEAD = "SELECT size, head_hash, checkpointed_size FROM audit_head WHERE id = 1"
_NEW_HEAD = "INSERT INTO audit_head (id, size, head_hash, checkpointed_size) VALUES (1, 0, %s, 0)"
# The batch's rows arrive as one JSON array and the head moves in the same statement: one
# statement for the server to plan and run, one parameter for the driver, however many events.
# (Row by row, the driver's work per event was most of the time a commit holds the lock.)
_APPEND_AND_MOVE_HEAD = (
    "WITH appended AS (INSERT INTO audit_events SELECT * FROM json_populate_recordset(NULL::audit_events, %s::json)) "
    "UPDATE audit_head SET size = %s, head_hash = %s, checkpointed_size = %s WHERE id = 1"
)


@cache
def _count_uses(table) -> str:
    return (f"UPDATE {table.name} SET use_count = {table.name}.use_count + u.n, last_used_at = %s "
            f"FROM unnest(%s::text[], %s::bigint[]) AS u(id, n) WHERE {table.name}.id = u.id")


@cache
def _insert(table) -> str:
    cols = [c.name for c in table.columns]
    return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(f'%({c})s' for c in cols)})"


def _uses_by_table(batch: list[Pending]) -> dict:
    """table -> ([ids], [uses]) of the capabilities the batch's events used."""
    by_table: dict = {}
    for (table, row_id), n in uses_of(batch).items():
        ids, counts = by_table.setdefault(table, ([], []))
        ids.append(row_id)
        counts.append(n)
    return by_table


def commit_pipelined(engine, take, extend, now) -> list[int]:
    """The group commit on PostgreSQL in two round trips: the lock and the head; then the rows,
    the head's move, the use counts and COMMIT, pipelined.

    ``take()`` gives the batch (its events ``audit.Prepared``) once the lock is held;
    ``extend(head, events)`` returns the rows that append them to the chain whose head is
    ``head`` (None on an empty log), the new head (size, hash, checkpointed size) and a
    checkpoint row if one is due. A database error is raised as SQLAlchemy's (``DBAPIError``,
    the driver's error at ``orig``), as on the other paths.
    """
    import psycopg

    from .models import AuditCheckpoint

    raw = engine.raw_connection()  # from the pool: its checkout replaces an ended connection
    conn = raw.driver_connection
    try:
        if conn.autocommit:  # the lock would end with its statement
            conn.autocommit = False
        with conn.pipeline(), conn.cursor() as cur, conn.cursor() as head_cur:
            cur.execute(_LOCK)
            head_cur.execute(_HEAD)  # after the lock, and READ COMMITTED: the newest committed head
            head = head_cur.fetchone()  # the one wait for the server before the commit
            batch = take()
            rows, (size, head_hash, checkpointed), checkpoint = extend(head, [p.event for p in batch])
            if head is None:
                cur.execute(_NEW_HEAD, (head_hash,))
            if checkpoint is not None:
                cur.execute(_insert(AuditCheckpoint.__table__), checkpoint)
            appended = ",".join('{"seq":%d,"ts":"%s","entry_hash":"%s",%s}' % (r["seq"], r["ts"], r["entry_hash"], p.event.rest)
                                for r, p in zip(rows, batch))  # fmt: skip
            cur.execute(_APPEND_AND_MOVE_HEAD, (f"[{appended}]", size, head_hash, checkpointed))
            uses = _uses_by_table(batch)
            stamp = UTCDateTime().process_bind_param(now, engine.dialect) if uses else None
            for table, (ids, counts) in uses.items():
                cur.execute(_count_uses(table), (stamp, ids, counts))
            conn.commit()
        return [r["seq"] for r in rows]
    except BaseException as exc:
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001 - the connection itself broke: never reused
            raw.invalidate()
        if isinstance(exc, psycopg.Error):
            raise DBAPIError(None, None, exc, connection_invalidated=raw.dbapi_connection is None) from exc
        raise
    finally:
        raw.close()  # back to the pool
