"""Verifying the audit log: the whole chain from event #1, or only what came after a point
already verified.

Re-hashing from #1 costs about 48 s at a million events. So a verification that finds the log
intact leaves a mark (``audit_verified``: "events #1..#N were intact, the head at #N was H") and
the next one starts from the newest mark, or from a newer checkpoint the caller trusts (a
note kept outside the database). From a start at size N it checks: that the stored event #N
still hashes, from #N-1's stored hash, to the start's head H; every event after #N against
the chain; every signed checkpoint after #N; the head row; truncation (the head, a checkpoint,
the mark itself or a trusted note naming more events than are left). An event changed at or
before #N-1 after it was verified is not seen this way: ``full`` re-checks from #1.

Who could forge a mark? Anyone who can write to the database, if a mark were a plain row: they
would edit old events, then insert "verified up to now" and be believed. A mark is therefore
worth only its HMAC, keyed by a key derived from the log's signing key (which such an attacker
lacks, or checkpoints would mean nothing either); a MAC rather than an Ed25519 signature keeps a
mark from ever passing for a checkpoint note. A mark that fails its MAC makes the check start
from #1 and the report fail, naming it: it proves a write past the software. Deleting marks only
makes the next check a full one. Replaying an old mark only makes it start earlier.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from . import signing
from .audit import FIELDS, GENESIS, _ts, chain
from .db import writing
from .models import AuditCheckpoint, AuditEvent, AuditHead, AuditVerified

log = logging.getLogger(__name__)
MARKS_READ = 1000  # the newest marks looked at: a flood of forged ones cannot make a check slow
_EVENTS = AuditEvent.__table__


@dataclass
class VerifyReport:
    ok: bool
    events: int  # the log's size, as far as it verifies
    checkpoints: int  # signed checkpoints (stored and trusted) this verification checked
    first_bad_event: int | None = None
    problem: str | None = None
    full: bool = True  # checked from event #1
    from_size: int = 0  # events #1..from_size were verified before (by a mark or a trusted note)
    from_kind: str | None = None  # "verification" or "trusted checkpoint" when not full
    from_time: str | None = None  # when that start was verified or signed
    checked: int = 0  # events hashed by this verification
    forged_marks: list[int] = field(default_factory=list)  # sizes of marks whose MAC failed

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Start:
    size: int
    head_hash: str
    kind: str | None = None
    time: str | None = None


def mark_key(key) -> bytes | None:
    """The MAC key of marks, from the signing key (None with a public key only: then no marks)."""
    raw = getattr(key, "private_bytes_raw", None)
    if raw is None:
        return None
    return hashlib.sha256(b"jupyter-datashare audit verified-mark key v1\0" + raw()).digest()


def mark_mac(mac_key: bytes, origin: str, size: int, head_hash: str, verified_at: str, from_size: int) -> str:
    msg = f"jupyter-datashare audit verified v1\n{origin}\n{size}\n{head_hash}\n{verified_at}\n{from_size}\n"
    return hmac.new(mac_key, msg.encode(), hashlib.sha256).hexdigest()


_COLUMNS = [_EVENTS.c[k] for k in (*FIELDS, "entry_hash")]


def _events_after(session, after: int, batch: int = 5000) -> Iterator[tuple[dict, str]]:
    """Events after ``after``, oldest first, each as (its fields, its stored hash), read in
    batches inside the caller's snapshot as plain tuples (no ORM objects: a full check reads
    a million)."""
    while True:
        rows = session.execute(select(*_COLUMNS).where(_EVENTS.c.seq > after).order_by(_EVENTS.c.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield dict(zip(FIELDS, row)), row[-1]
        after = rows[-1][0]


def _fail(events, checkpoints, first_bad, problem, start: Start) -> VerifyReport:
    return VerifyReport(False, events, checkpoints, first_bad, problem, **_where(start))


def _where(start: Start) -> dict:
    return {"full": start.size == 0, "from_size": start.size, "from_kind": start.kind, "from_time": start.time}


class Verifier:
    """One verification, inside one snapshot of the log (``session``)."""

    def __init__(self, audit, session, trusted_notes: list[str], full: bool):
        self.audit, self.session, self.notes, self.full = audit, session, trusted_notes, full
        self.mac_key = mark_key(audit.key)

    def run(self) -> VerifyReport:
        s = self.session
        head = s.execute(select(AuditHead.size, AuditHead.head_hash).where(AuditHead.id == 1)).one_or_none()
        trusted: dict[int, Start] = {}
        for note in self.notes:
            try:
                opened = signing.open_checkpoint(note, self.audit.public_key)
            except signing.BadNote as exc:
                return _fail(0, 0, None, f"a trusted checkpoint does not verify: {exc}", Start(0, GENESIS))
            if opened.size in trusted and trusted[opened.size].head_hash != opened.head_hash:
                return _fail(0, 0, None, f"two trusted checkpoints at size {opened.size} differ", Start(0, GENESIS))
            trusted[opened.size] = Start(opened.size, opened.head_hash, "trusted checkpoint", opened.time)
        mark, forged = self._newest_mark()
        self.forged = forged
        start = Start(0, GENESIS)
        if not self.full and not forged:
            newest_note = trusted[max(trusted)] if trusted else None
            start = max((c for c in (mark, newest_note) if c is not None), key=lambda c: c.size, default=start)

        # The start itself, and each trusted note at or before it: its event is there and still
        # has the hash the note or mark vouches for.
        checked_cps = 0
        for point in sorted(({start.size} | {n for n in trusted if n <= start.size}) - {0}):
            vouched = start if point == start.size else trusted[point]
            if (bad := self._anchor(point, vouched, start)) is not None:
                return bad
            stored = s.get(AuditCheckpoint, point)
            if stored is not None:
                try:
                    opened = signing.open_checkpoint(stored.note, self.audit.public_key)
                except signing.BadNote as exc:
                    return _fail(point, checked_cps, None, f"checkpoint at size {point} is not validly signed: {exc}", start)
                if opened.head_hash != vouched.head_hash:
                    return _fail(point, checked_cps, None,
                                 f"the stored checkpoint at size {point} contradicts the {vouched.kind}", start)  # fmt: skip
            checked_cps += stored is not None or vouched.kind == "trusted checkpoint"

        checkpoints: dict[int, tuple[str, str]] = {}
        stored = s.scalars(select(AuditCheckpoint).where(AuditCheckpoint.size > start.size).order_by(AuditCheckpoint.size)).all()
        for cp in stored:
            try:
                opened = signing.open_checkpoint(cp.note, self.audit.public_key)
            except signing.BadNote as exc:
                return _fail(start.size, checked_cps, None, f"checkpoint at size {cp.size} is not validly signed: {exc}", start)
            checkpoints[opened.size] = (opened.head_hash, "checkpoint")
        for size, note in trusted.items():
            if size <= start.size:
                continue
            prior = checkpoints.get(size)
            if prior and prior[0] != note.head_hash:
                return _fail(start.size, checked_cps, None,
                             f"the stored checkpoint at size {size} contradicts the trusted one", start)  # fmt: skip
            checkpoints[size] = (note.head_hash, "trusted checkpoint")
        n_cps = checked_cps + len(checkpoints)

        prev, expected, last_good = start.head_hash, start.size + 1, start.size
        for row, entry_hash in _events_after(s, start.size):
            if row["seq"] != expected:
                return _fail(expected - 1, n_cps, expected,
                             f"event #{expected} is missing (the log was cut or an event removed)", start)  # fmt: skip
            recomputed = chain(prev, row)
            if recomputed != entry_hash:
                return _fail(expected - 1, n_cps, expected,
                             f"event #{expected} does not match its hash: it was altered, inserted or reordered", start)  # fmt: skip
            if expected in checkpoints:
                if checkpoints[expected][0] != recomputed:
                    return _fail(expected - 1, n_cps, last_good + 1,
                                 f"events #{last_good + 1}..#{expected} differ from the signed {checkpoints[expected][1]} "
                                 f"at size {expected}: the log was rewritten from #{last_good + 1} on", start)  # fmt: skip
                last_good = expected
            prev = recomputed
            expected += 1
        count = expected - 1
        claimed = max(max(checkpoints, default=0), head.size if head else 0, start.size)
        if claimed > count:
            return _fail(count, n_cps, count + 1,
                         f"the log was truncated: {claimed} events were recorded, {count} remain; "
                         f"event #{count + 1} is the first missing", start)  # fmt: skip
        if head is not None and head.head_hash != prev:
            return _fail(count, n_cps, count, "the log head does not match the last event", start)
        if forged:
            return _fail(count, n_cps, None,
                         f"the events verify from #1, but the record of a verification at size {forged[0]} is not "
                         f"authentic: someone wrote to the database without the log's key (look into it, then "
                         f"delete that row of audit_verified)", start)  # fmt: skip
        report = VerifyReport(True, count, n_cps, checked=count - start.size, **_where(start))
        self.tip = (count, prev, start.size)
        return report

    def _newest_mark(self) -> tuple[Start | None, list[int]]:
        """The newest authentic mark, and the sizes of the marks newer than it that are not."""
        forged = []
        rows = self.session.execute(select(AuditVerified).order_by(AuditVerified.size.desc()).limit(MARKS_READ)).scalars()
        for m in rows:
            if self.mac_key is not None:
                expected = mark_mac(self.mac_key, self.audit.origin, m.size, m.head_hash, m.verified_at, m.from_size)
                if hmac.compare_digest(expected, m.mac or ""):
                    return Start(m.size, m.head_hash, "verification", m.verified_at), forged
            forged.append(m.size)
        return None, forged if self.mac_key is not None else []

    def _anchor(self, size: int, vouched: Start, start: Start) -> VerifyReport | None:
        """None if the stored event #size hashes, from #size-1's stored hash, to ``vouched``."""
        s = self.session
        rows = {r["seq"]: r for r in s.execute(select(_EVENTS).where(_EVENTS.c.seq.in_((size - 1, size)))).mappings()}
        if size not in rows:
            last = s.scalar(select(func.max(_EVENTS.c.seq))) or 0
            if last < size:
                return _fail(last, 0, last + 1, f"the log was truncated: the {vouched.kind} of {vouched.time} covers "
                             f"{size} events, {last} remain; event #{last + 1} is the first missing", start)  # fmt: skip
            return _fail(size - 1, 0, size, f"event #{size} is missing (the log was cut or an event removed)", start)
        if size > 1 and size - 1 not in rows:
            return _fail(size - 2, 0, size - 1, f"event #{size - 1} is missing (the log was cut or an event removed)", start)
        prev = rows[size - 1]["entry_hash"] if size > 1 else GENESIS
        event = rows[size]
        if chain(prev, event) != event["entry_hash"]:
            return _fail(size - 1, 0, size, f"event #{size} does not match its hash: it was altered, inserted or reordered", start)
        if event["entry_hash"] != vouched.head_hash:
            return _fail(size - 1, 0, None, f"the events up to #{size} differ from the {vouched.kind} of {vouched.time} "
                         f"at size {size}: the log was rewritten at or before #{size} (--full finds where)", start)  # fmt: skip
        return None


def verify(audit, trusted_notes=(), *, full: bool = False) -> VerifyReport:
    with audit._snapshot() as session:
        verifier = Verifier(audit, session, list(trusted_notes), full)
        report = verifier.run()
    report.forged_marks = getattr(verifier, "forged", [])
    if report.ok and report.events:
        record(audit, *verifier.tip)
    return report


def record(audit, size: int, head_hash: str, from_size: int) -> None:
    """Leave the mark of a verification that found #1..#size intact (best effort: a database
    that takes no writes, or a mark of the same size written meanwhile, only costs the next check)."""
    key = mark_key(audit.key)
    if key is None:
        return
    now = _ts(audit.clock.now())
    mac = mark_mac(key, audit.origin, size, head_hash, now, from_size)
    try:
        with writing(audit.engine) as session:
            conn = session.connection()
            if conn.execute(select(AuditVerified.size).where(AuditVerified.size == size)).first() is None:
                conn.execute(insert(AuditVerified).values(size=size, head_hash=head_hash, verified_at=now,
                                                          from_size=from_size, mac=mac))  # fmt: skip
    except SQLAlchemyError as exc:
        log.warning("could not record where the audit log was verified (the next check starts earlier): %s", exc)
