"""The tamper-evident audit log.

Each event is a row whose ``entry_hash`` is SHA-256(previous hash || canonical JSON of the row),
so editing, removing or inserting a row breaks the chain from that row on. Every N events or
T seconds the head of the chain is signed (Ed25519) as a checkpoint note; a checkpoint kept
anywhere else makes even a rewrite of the whole chain, or a truncation, detectable.

Appends happen inside a write transaction that holds the database's write lock, either the
caller's (a state change and its event commit together or not at all) or one of their own
(a read of data, whose event must be durable before the first byte is sent).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import signing
from .clock import Clock, parse_when
from .db import immediate, is_retryable, reading, snapshot, writing
from .errors import AuditUnavailable
from .group_commit import GroupCommit, commit_pipelined, count_uses
from .models import AuditCheckpoint, AuditEvent, AuditHead

GENESIS = "0" * 64
RETRIES = 3  # attempts of a self-contained append that PostgreSQL rolled back (deadlock, serialization)
FIELDS = (
    "seq", "ts", "actor", "action", "outcome", "dataset_id", "version", "file",
    "byte_range", "reason", "client", "link_id", "grant_id", "details",
)  # fmt: skip


def canonical(row: dict) -> bytes:
    return json.dumps({k: row.get(k) for k in FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain(prev_hash: str, row: dict) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(row)).hexdigest()


class Prepared:
    """An event made ready for the chain before the write lock is taken: all of its canonical
    JSON but the sequence number and time, which only the append knows. (Under the lock, the
    work per event is then one SHA-256; it was a JSON encoding, in every process's way.)"""

    __slots__ = ("row", "before", "after", "rest")

    def __init__(self, event: "Event"):
        self.row = {k: getattr(event, k) for k in FIELDS if k not in ("seq", "ts")}
        # Sorted keys end in ..."seq", "ts", "version": the last such run is the event's own
        # (one inside details sits before it; string values have their quotes escaped).
        text = json.dumps(self.row | {"seq": 0, "ts": ""}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        before, _, after = text.rpartition(_SEQ_TS_VERSION)
        self.before, self.after = before.encode(), after.encode()
        self.rest = json.dumps(self.row, separators=(",", ":"))[1:-1]  # the row's JSON, less its braces

    def canonical(self, seq: int, ts: str) -> bytes:
        return self.before + b'"seq":%d,"ts":"%s","version":' % (seq, ts.encode()) + self.after


_SEQ_TS_VERSION = '"seq":0,"ts":"","version":'


def _ts(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Event:
    """What happened. Never put a secret in any field."""

    action: str
    actor: str
    outcome: str = "ok"
    dataset_id: str | None = None
    version: int | None = None
    file: str | None = None
    byte_range: str | None = None
    reason: str | None = None
    client: str | None = None
    link_id: str | None = None
    grant_id: str | None = None
    details: dict | None = field(default=None)


# Built once: constructing statements per event cost more than the commit itself.
_HEAD = select(AuditHead.size, AuditHead.head_hash, AuditHead.checkpointed_size).where(AuditHead.id == 1)
_INSERT = insert(AuditEvent.__table__)
_MOVE_HEAD = update(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)
_KEYS = (*FIELDS, "entry_hash")  # an event as the API shows it
_COLUMNS = [AuditEvent.__table__.c[k] for k in _KEYS]
MERGED_AT_MOST = 200  # datasets of a caller whose pages are read one by one and merged (see events)


def _filtered(q, dataset_id=None, action=None, since: datetime | None = None, until: datetime | None = None,
              within=None):  # fmt: skip
    """Events of one dataset, of one action, from ``since`` (included) to ``until`` (excluded),
    of the datasets ``within`` only (when given: a caller's own, in the service)."""
    if within is not None:
        q = q.where(AuditEvent.dataset_id.in_(sorted(within)))
    if dataset_id:
        q = q.where(AuditEvent.dataset_id == dataset_id)
    if action:
        q = q.where(AuditEvent.action == action)
    if since is not None:
        q = q.where(AuditEvent.ts >= _ts(since))
    if until is not None:
        q = q.where(AuditEvent.ts < _ts(until))
    return q


def end_of(field: str, value) -> datetime:
    """The (excluded) end of an ``until`` filter: a date means up to the end of that day."""
    bound = parse_when(field, value)
    if isinstance(value, str) and len(value.strip()) == 10:  # 2027-01-31, not a date-time
        bound += timedelta(days=1)
    return bound


def _jsonl(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv(rows: Iterable[dict]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*FIELDS, "entry_hash"])
    writer.writeheader()
    for row in rows:
        row["details"] = json.dumps(row["details"]) if row["details"] is not None else ""
        # A spreadsheet runs a cell such as =HYPERLINK(...) from a reason as a formula; a leading
        # quote makes it text (OWASP's CSV injection advice). The JSON export keeps the exact text.
        writer.writerow({k: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_STARTS) else v for k, v in row.items()})
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():  # the header alone, when no event matched
        yield buf.getvalue()


class AuditLog:
    def __init__(self, engine, key, clock: Clock, *, checkpoint_every: int = 1000, checkpoint_seconds: float = 60.0):
        self.engine = engine
        self.key = key
        self.public_key = signing.public_bytes(key)
        self.origin = signing.origin_for(key)
        self.verifier_key = signing.verifier_key(self.origin, self.public_key)
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self._last_checkpoint_at = time.monotonic()
        self._group = GroupCommit(self._commit_batch)

    # -- writing -----------------------------------------------------------------------------

    def append(self, session: Session, event: Event) -> int:
        """Append inside the caller's write transaction; returns the event's sequence number."""
        return self._append_all(session.connection(), [Prepared(event)])[-1]

    def _append_all(self, conn, events: list[Prepared]) -> list[int]:
        # SQLAlchemy Core rather than the ORM: this is the hot path of every audited read.
        head = conn.execute(_HEAD).one_or_none()
        if head is None:
            conn.execute(insert(AuditHead).values(id=1, size=0, head_hash=GENESIS, checkpointed_size=0))
        rows, (size, head_hash, checkpointed), checkpoint = self._extend(head, events)
        conn.execute(_INSERT, rows)
        if checkpoint is not None:
            conn.execute(insert(AuditCheckpoint).values(**checkpoint))
        conn.execute(_MOVE_HEAD, {"size": size, "head_hash": head_hash, "checkpointed_size": checkpointed})
        return [r["seq"] for r in rows]

    def _extend(self, head, events: list[Prepared]) -> tuple[list[dict], tuple[int, str, int], dict | None]:
        """The rows that append ``events`` to the chain whose head is ``head`` (size, hash,
        checkpointed size; None for an empty log), the new head, and a signed checkpoint row of
        the new head if one is due."""
        size, prev, checkpointed = head if head is not None else (0, GENESIS, 0)
        ts = _ts(self.clock.now())
        rows = []
        for event in events:
            size += 1
            prev = hashlib.sha256(bytes.fromhex(prev) + event.canonical(size, ts)).hexdigest()
            rows.append(event.row | {"seq": size, "ts": ts, "entry_hash": prev})
        checkpoint = None
        if size - checkpointed >= self.checkpoint_every or time.monotonic() - self._last_checkpoint_at >= self.checkpoint_seconds:
            checkpoint = self._checkpoint_row(size, prev)
            checkpointed = size
        return rows, (size, prev, checkpointed), checkpoint

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction whose failure to commit means: do not go on (AuditUnavailable)."""
        try:
            with writing(self.engine) as session:
                yield session
        except SQLAlchemyError as exc:
            raise AuditUnavailable() from exc

    def record(self, event: Event, *, use=None) -> int:
        """Append in a transaction of its own; returns once the event is durably committed.

        Concurrent callers share commits (group_commit.py). ``use``: the review link or grant
        row the event is a use of; its use count moves in the same commit.
        """
        return self._group.submit(Prepared(event), use)

    @property
    def commits(self) -> int:
        """Transactions the group commit made so far (events per commit, in benchmarks and tests)."""
        return self._group.commits

    def _commit_batch(self, take) -> list[int]:
        """One commit of the events ``take()`` gives once the write lock is held."""
        for attempt in range(RETRIES):
            try:
                if self.engine.dialect.name == "postgresql":
                    return commit_pipelined(self.engine, take, self._extend, self.clock.now())
                with immediate(self.engine).begin() as conn:
                    batch = take()
                    seqs = self._append_all(conn, [p.event for p in batch])
                    count_uses(conn, batch, self.clock.now())
                return seqs
            except SQLAlchemyError as exc:
                # Rolled back as a whole (PostgreSQL deadlock or serialization failure):
                # nothing of it was stored, so it runs again.
                if not is_retryable(exc) or attempt == RETRIES - 1:
                    raise AuditUnavailable() from exc
        raise AssertionError("unreachable")

    def _checkpoint_row(self, size: int, head_hash: str) -> dict:
        now = _ts(self.clock.now())
        note = signing.sign_checkpoint(self.key, signing.Checkpoint(self.origin, size, head_hash, now))
        self._last_checkpoint_at = time.monotonic()
        return {"size": size, "head_hash": head_hash, "created_at": now, "note": note}

    def checkpoint(self) -> str | None:
        """Sign the current head if it grew since the last checkpoint; returns the newest note."""
        with self.transaction() as session:
            head = session.get(AuditHead, 1)
            if head is None or head.size == 0:
                return None
            if head.checkpointed_size == head.size:
                stored = session.get(AuditCheckpoint, head.size)
                if stored is not None:
                    return stored.note
            checkpoint = self._checkpoint_row(head.size, head.head_hash)
            session.connection().execute(insert(AuditCheckpoint).values(**checkpoint))
            head.checkpointed_size = head.size
            return checkpoint["note"]

    def latest_checkpoint(self) -> str | None:
        with reading(self.engine) as session:
            cp = session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1))
            return cp.note if cp else None

    # -- reading -----------------------------------------------------------------------------

    def events(self, *, dataset_id=None, action=None, since: datetime | None = None, until: datetime | None = None,
               limit: int | None = None, offset: int = 0, newest_first: bool = False, within=None,
               before: int | None = None, after: int | None = None) -> list[dict]:  # fmt: skip
        """The matching events in ``seq`` order; ``before``/``after`` (a seq) start a page there:
        a page deep in a long log costs what the first does, and events appended meanwhile
        neither repeat nor shift it (``offset`` does both)."""
        def page(dataset_id, within, offset, limit):
            # Plain rows, not ORM objects: a page of a hundred costs a third as much.
            q = _filtered(select(*_COLUMNS), dataset_id, action, since, until, within)
            if before is not None:
                q = q.where(AuditEvent.seq < before)
            if after is not None:
                q = q.where(AuditEvent.seq > after)
            q = q.order_by(AuditEvent.seq.desc() if newest_first else AuditEvent.seq).offset(offset)
            return q.limit(limit) if limit is not None else q

        with reading(self.engine) as session:
            if within is None or dataset_id or limit is None or len(within) > MERGED_AT_MOST:
                return [dict(zip(_KEYS, row)) for row in session.execute(page(dataset_id, within, offset, limit))]
            # A caller's own datasets (the service): `dataset_id IN (...)` sorts every event of
            # them; a page of each, merged, reads no more than the page from each index range.
            rows = [row for d in sorted(within) for row in session.execute(page(d, None, 0, offset + limit))]
        rows.sort(key=lambda r: r[0], reverse=newest_first)  # by seq
        return [dict(zip(_KEYS, row)) for row in rows[offset : offset + limit]]

    def _iter_matching(self, dataset_id=None, action=None, since=None, until=None, within=None,
                       page: int = 1000) -> Iterator[dict]:  # fmt: skip
        """The matching events, oldest first, read a page at a time, each page in a short
        transaction of its own: a long export neither holds the database nor all events in memory.
        It stops at the last event there was when it began, so a busy log cannot keep it going."""
        with reading(self.engine) as session:
            last_seq = session.scalar(select(func.max(AuditEvent.seq))) or 0
        after = 0
        while after < last_seq:
            q = _filtered(select(AuditEvent), dataset_id, action, since, until, within)
            q = q.where(AuditEvent.seq > after, AuditEvent.seq <= last_seq).order_by(AuditEvent.seq).limit(page)
            with reading(self.engine) as session:
                rows = [self._as_dict(e) for e in session.scalars(q)]
            if not rows:
                return
            yield from rows
            after = rows[-1]["seq"]

    @staticmethod
    def _iter_all(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
        """Every event, oldest first, read in batches inside the caller's (snapshot) transaction."""
        last = 0
        while True:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
            if not rows:
                return
            yield from rows
            session.expunge_all()  # memory stays at one batch however long the log
            last = rows[-1].seq

    @contextmanager
    def _snapshot(self) -> Iterator[Session]:
        """One read transaction that sees the log as it was at one moment, whatever commits
        meanwhile: SQLite (WAL) fixes a reader's snapshot at its first read; PostgreSQL needs
        REPEATABLE READ (its default gives each statement a snapshot of its own)."""
        with snapshot(self.engine) as session:
            yield session

    @staticmethod
    def _as_dict(e: AuditEvent) -> dict:
        return {k: getattr(e, k) for k in FIELDS} | {"entry_hash": e.entry_hash}

    def export(self, fmt: str = "jsonl", *, dataset_id=None, action=None, since: datetime | None = None,
               until: datetime | None = None, within=None) -> Iterator[str]:  # fmt: skip
        """The events the filters select (as ``events`` does), oldest first, one line per piece.

        CSV starts with its header line, even when nothing matches.
        """
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown export format {fmt!r}: use jsonl or csv")
        rows = self._iter_matching(dataset_id, action, since, until, within)
        return _jsonl(rows) if fmt == "jsonl" else _csv(rows)

    # -- verifying ---------------------------------------------------------------------------

    def verify(self, trusted_notes: Iterable[str] = (), *, full: bool = False):
        """Check the chain and every signed checkpoint against it, from the newest point already
        verified (audit_verify.py) or, with ``full``, from event #1; returns a VerifyReport.

        ``trusted_notes`` are checkpoints kept outside the database; they catch a rewrite of
        the whole log (database checkpoints included) or a truncation after it.
        """
        from . import audit_verify

        return audit_verify.verify(self, trusted_notes, full=full)
