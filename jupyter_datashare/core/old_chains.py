"""The audit chains of local stores moved into the service (core/move_in.py): read from what the
owner sent, checked (every event's hash, the head the bundle names, the newest signed checkpoint),
kept as they were (``moved_audit_events``, written in short transactions of their own before the
move commits), checked again by ``audit verify``, and read back by their owner.

The old checkpoint is checked with the key the bundle names: it proves the chain is whole and
unchanged since it was signed, not who signed it. The service's own log records each move with
the old head hash, so the kept chain cannot be swapped afterwards without that showing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import delete, insert, select

from . import signing
from .audit import FIELDS, GENESIS, chain
from .bundles import typed
from .db import reading, writing
from .errors import InvalidInput, NotFound
from .models import AuditEvent, MovedAuditEvent, MovedStore
from .move_out import AUDIT_FILE

BATCH = 5000  # events per statement, and per transaction when kept
MAX_LINE = 1 << 20  # one event's JSON: far more than any event the core writes
_COLUMNS = {c.key: c for c in MovedAuditEvent.__table__.columns}


def read_sent(open_sent, audit_sha256):
    """The old chain's events, from the file the owner sent (``open_sent()`` opens it), each checked
    for its fields' types; at the end, the file's SHA-256 against the one the client announced."""
    if not isinstance(audit_sha256, str):
        raise InvalidInput("audit_sha256", f"must be the SHA-256 of the {AUDIT_FILE} sent")
    digest, n = hashlib.sha256(), 0
    with open_sent() as raw:
        while line := raw.readline(MAX_LINE + 1):
            n += 1
            digest.update(line)
            if len(line) > MAX_LINE:
                raise InvalidInput(AUDIT_FILE, f"line {n} is longer than any event")
            try:
                row = json.loads(line)
            except ValueError:  # not JSON, or not UTF-8
                raise InvalidInput(AUDIT_FILE, f"line {n} is not JSON") from None
            if not isinstance(row, dict) or set(row) != {*FIELDS, "entry_hash"}:
                raise InvalidInput(AUDIT_FILE, f"line {n} is not an event of the audit log")
            for key, value in row.items():
                if key != "details":
                    typed(value, _COLUMNS[key], f"{AUDIT_FILE}: line {n}: {key}")
            if row["details"] is not None and not isinstance(row["details"], dict):
                raise InvalidInput(AUDIT_FILE, f"line {n}: details must be an object")
            yield row
    if digest.hexdigest() != audit_sha256:
        raise InvalidInput("audit_sha256", f"is not the SHA-256 of the {AUDIT_FILE} sent")


def public_key_of(audit) -> bytes:
    value = audit.get("public_key") if isinstance(audit, dict) else None
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidInput("bundle.audit.public_key", "must be the old store's Ed25519 public key, in hex")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InvalidInput("bundle.audit.public_key", "must be the old store's Ed25519 public key, in hex") from None


def check(rows, audit) -> tuple[int, str]:
    """Recompute the old chain: every event's hash, its length and head, its signed checkpoint."""
    if not isinstance(audit, dict):
        raise InvalidInput("bundle.audit", "must say where the old audit chain ends")
    public_key = public_key_of(audit)
    checkpoint = None
    if audit.get("checkpoint") is not None:
        if not isinstance(audit["checkpoint"], str):
            raise InvalidInput("bundle.audit.checkpoint", "must be a signed checkpoint note")
        try:
            checkpoint = signing.open_checkpoint(audit["checkpoint"], public_key)
        except signing.BadNote as exc:
            raise InvalidInput("bundle.audit.checkpoint", f"does not verify with the old signing key: {exc}") from None
    prev, size = GENESIS, 0
    for row in rows:
        size += 1
        if row["seq"] != size or chain(prev, row) != row["entry_hash"]:
            raise InvalidInput(AUDIT_FILE, f"event #{size} does not verify: the old audit chain was altered or cut")
        prev = row["entry_hash"]
        if checkpoint is not None and checkpoint.size == size and checkpoint.head_hash != prev:
            raise InvalidInput(AUDIT_FILE, f"the events up to #{size} differ from the old signed checkpoint")
    if (size, prev) != (audit.get("size"), audit.get("head_hash")):
        raise InvalidInput(AUDIT_FILE, f"the old chain ends at #{size}, not where the bundle says it ends")
    if checkpoint is not None and checkpoint.size > size:
        raise InvalidInput(AUDIT_FILE, "the old chain is shorter than its signed checkpoint")
    return size, prev


def keep(ctx, store: MovedStore, rows) -> None:
    """The moved store's row (not yet recorded: ``event_seq`` 0) and its old events, a batch per
    transaction, so that no write waits on a long chain; ``forget`` undoes it if the move fails."""
    with writing(ctx.engine) as s:
        s.add(store)
    batch = []
    for row in rows:
        batch.append(row | {"store_id": store.id})
        if len(batch) >= BATCH:
            _insert(ctx, batch)
            batch = []
    if batch:
        _insert(ctx, batch)


def _insert(ctx, batch: list[dict]) -> None:
    with writing(ctx.engine) as s:
        s.execute(insert(MovedAuditEvent), batch)


def forget(ctx, store_id: str) -> None:
    with writing(ctx.engine) as s:
        s.execute(delete(MovedAuditEvent).where(MovedAuditEvent.store_id == store_id))
        s.execute(delete(MovedStore).where(MovedStore.id == store_id))


def recorded(ctx, store_id: str) -> bool:
    """Whether the move of ``store_id`` committed (the service's log recorded it)."""
    with reading(ctx.engine) as s:
        moved = s.get(MovedStore, store_id)
        return moved is not None and moved.event_seq > 0


def forget_stale(ctx, owner: str, seconds: float) -> None:
    """What a move of ``owner``'s that died half-way (a crash) kept of an old chain, long ago."""
    cutoff = ctx.now() - timedelta(seconds=seconds)
    with reading(ctx.engine) as s:
        stale = s.scalars(select(MovedStore.id).where(MovedStore.owner == owner, MovedStore.event_seq == 0,
                                                       MovedStore.moved_at < cutoff)).all()  # fmt: skip
    for store_id in stale:
        forget(ctx, store_id)


def _page(ctx, store_id: str, after: int) -> list[dict]:
    q = select(MovedAuditEvent).where(MovedAuditEvent.store_id == store_id, MovedAuditEvent.seq > after)
    with reading(ctx.engine) as s:
        return [{k: getattr(e, k) for k in FIELDS} | {"entry_hash": e.entry_hash}
                for e in s.scalars(q.order_by(MovedAuditEvent.seq).limit(BATCH))]  # fmt: skip


def _kept(ctx, store_id: str):
    """A moved store's old events, oldest first, a page per short read (no session held between)."""
    after = 0
    while page := _page(ctx, store_id, after):
        yield from page
        after = page[-1]["seq"]


def verify(ctx) -> list[dict]:
    """Each moved store's old chain, checked again: its events against their hashes, its head
    against what the service's own log recorded when it moved in."""
    with reading(ctx.engine) as s:
        stores = s.scalars(select(MovedStore).where(MovedStore.event_seq > 0).order_by(MovedStore.moved_at)).all()
        recorded = {m.id: s.get(AuditEvent, m.event_seq) for m in stores}
        # Every move the service's log recorded must still be there, as recorded.
        moves = s.execute(select(AuditEvent.seq, AuditEvent.details).where(AuditEvent.action == "store.moved_in")).all()
    out = []
    kept = {m.id: m.event_seq for m in stores}
    for seq, details in moves:
        store_id = (details or {}).get("moved_store")
        if kept.get(store_id) != seq:
            out.append({"moved_store": store_id, "owner": "unknown", "events": (details or {}).get("old_events"),
                        "ok": False, "problem": f"the move recorded by event #{seq} is missing or was changed"})  # fmt: skip
    for moved in stores:
        report = {"moved_store": moved.id, "owner": moved.owner, "events": moved.old_size, "ok": True}
        event = recorded[moved.id]
        details = (event.details or {}) if event is not None else {}
        try:
            if event is None or event.action != "store.moved_in" or details.get("moved_store") != moved.id or \
                    details.get("old_head_hash") != moved.old_head_hash or details.get("old_events") != moved.old_size:  # fmt: skip
                raise InvalidInput("moved_store", "does not match the move the service's log recorded")
            check(_kept(ctx, moved.id), {"size": moved.old_size, "head_hash": moved.old_head_hash,
                                         "public_key": moved.old_public_key, "checkpoint": moved.old_checkpoint})  # fmt: skip
        except InvalidInput as exc:
            report |= {"ok": False, "problem": exc.message.removeprefix(exc.field + ": ")}
        out.append(report)
    return out


def owned(ctx, owner: str, store_id: str) -> None:
    """NotFound unless ``store_id`` is a moved store of ``owner``'s."""
    with reading(ctx.engine) as s:
        moved = s.get(MovedStore, store_id)
    if moved is None or moved.owner != owner or moved.event_seq == 0:
        raise NotFound("no such moved store of yours")


def lines(ctx, store_id: str, after: int) -> tuple[str, int]:
    """The next page of a moved store's old chain after event ``after``, as JSON lines, and the
    last event's number in it ('' at the end)."""
    page = _page(ctx, store_id, after)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in page), (page[-1]["seq"] if page else after)


def listed(ctx, owner: str) -> list[dict]:
    with reading(ctx.engine) as s:
        rows = s.scalars(select(MovedStore).where(MovedStore.owner == owner, MovedStore.event_seq > 0)
                         .order_by(MovedStore.moved_at))  # fmt: skip
        return [{"id": m.id, "moved_at": m.moved_at.isoformat(), "datasets": m.datasets, "old_events": m.old_size,
                 "old_head_hash": m.old_head_hash, "event": m.event_seq} for m in rows]  # fmt: skip
