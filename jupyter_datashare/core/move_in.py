"""Moving a local store into the service, the service's side: the owner sent their stored files and
old audit chain into a folder of theirs (``api/files``), then the bundle and the data keys
(core/move_out.py made them); ``move_in`` checks all of it and adds it, all or nothing.

- Every dataset becomes the caller's, with its versions, files, committee, review links, access
  requests, decisions and grants. Secrets exist only as their hashes, which carry over, so links
  already sent keep working at the service's URL.
- Every stored file is checked before anything is committed: a plain one must hash to its name,
  an encrypted one authenticate and decrypt to its checksum under the dataset's data key, which
  is wrapped under the service's master key.
- The old audit chain must verify (every hash, its head, its newest signed checkpoint) and is kept
  as it was (``moved_audit_events``); the service's log records the move with the old head hash
  (``store.moved_in``, and ``dataset.moved_in`` for each dataset, which its owner reads).
- One transaction: a failure leaves the service as it was (files copied into the store are
  removed, or unreferenced and cleaned up later) and the folder sent stays for another try.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from . import paths, policy, signing, uploads
from .audit import FIELDS, GENESIS, Event, chain
from .clock import parse_when
from .db import reading
from .errors import InvalidInput, NotFound
from .folders import forbidden_paths, share_root
from .keyring import DatasetKey, master_key_id
from .models import (
    AccessRequest,
    AuditEvent,
    CommitteeMember,
    Dataset,
    DatasetVersion,
    Decision,
    Grant,
    MovedAuditEvent,
    MovedStore,
    ReviewLink,
    UTCDateTime,
    VersionFile,
)
from .move_out import AUDIT_FILE, FORMAT
from .secrets import new_id

_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BATCH = 5000  # old events inserted per statement


# Numbered by the service's database, not sent (see move_out._LOCAL_ONLY).
_NUMBERED = {DatasetVersion: {"id"}, VersionFile: {"id", "version_id"}, Decision: {"id"}}


def _make(model, data, where: str, *, extra=(), fixed: dict | None = None):
    """An ORM row from a bundle's row: only its table's columns, each of the column's type, the
    required ones present; ``fixed`` values (the owner, the dataset) replace what was sent."""
    if not isinstance(data, dict):
        raise InvalidInput(where, "must be an object")
    fixed = fixed or {}
    columns = {c.key: c for c in model.__table__.columns}
    unknown = set(data) - (set(columns) - _NUMBERED.get(model, set())) - set(extra)
    if unknown:
        raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "is not a field of this kind of record")
    values = {}
    for key, col in columns.items():
        if key in fixed or key in _NUMBERED.get(model, ()):
            continue
        if key not in data:
            if not col.nullable and col.default is None:
                raise InvalidInput(f"{where}.{key}", "is required")
            continue
        values[key] = _typed(data[key], col, f"{where}.{key}")
    return model(**(values | fixed))


def _typed(value, col, where: str):
    if value is None:
        if not col.nullable:
            raise InvalidInput(where, "cannot be empty")
        return None
    if isinstance(col.type, UTCDateTime):
        return parse_when(where, value)
    kind = col.type.python_type if not hasattr(col.type, "impl") else col.type.impl.python_type
    if kind is bool and not isinstance(value, bool):
        raise InvalidInput(where, "must be true or false")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput(where, "must be a whole number")
    if kind is str and not isinstance(value, str):
        raise InvalidInput(where, "must be a text")
    return value


def _id(value, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(where, "must be an identifier of letters, digits, - and _")
    return value


class _Plan:
    """The rows to add and the stored files they need, checked before anything is written."""

    def __init__(self, ctx, owner: str, bundle: dict, keys: dict):
        self.rows: list = []
        self.files: list[tuple[str, str, int, str | None, str]] = []  # (sent name, sha, size, dataset, how)
        self.keys: dict[str, bytes] = {}
        self.datasets: list[str] = []
        self.counts = {"versions": 0, "files": 0, "links": 0, "committee": 0, "requests": 0, "grants": 0}
        items = bundle.get("datasets")
        if not isinstance(items, list):
            raise InvalidInput("bundle.datasets", "must be a list")
        if not isinstance(keys, dict):
            raise InvalidInput("keys", "must map dataset ids to their data keys")
        for i, item in enumerate(items):
            self._dataset(ctx, owner, item, keys, f"bundle.datasets[{i}]")
        stray = set(keys) - set(self.keys)
        if stray:
            raise InvalidInput("keys", f"'{sorted(stray)[0]}' is not an encrypted dataset of the bundle")

    def _dataset(self, ctx, owner, item, keys, where) -> None:
        if not isinstance(item, dict):
            raise InvalidInput(where, "must be an object")
        extra = ("key", "versions", "committee", "links", "requests")
        ds = _make(Dataset, item.get("dataset"), where + ".dataset", fixed={"owner": owner})
        ds_id = _id(ds.id, where + ".dataset.id")
        if ds.access_level not in policy.LEVELS:
            raise InvalidInput(where + ".dataset.access_level", f"must be one of {', '.join(policy.LEVELS)}")
        if ds_id in self.datasets:
            raise InvalidInput(where + ".dataset.id", f"'{ds_id}' comes twice")
        unknown = set(item) - {"dataset", *extra}
        if unknown:
            raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "is not part of a dataset")
        self.datasets.append(ds_id)
        self.rows.append(ds)
        mine = {"dataset_id": ds_id}
        encrypted = self._key(ctx, ds, item.get("key"), keys, where)
        for j, v in enumerate(item.get("versions") or []):
            at = f"{where}.versions[{j}]"
            version = _make(DatasetVersion, v, at, extra=("files",), fixed=mine)
            version.files = []
            for k, f in enumerate(v.get("files") or []):
                file_row = _make(VersionFile, f, f"{at}.files[{k}]", extra=("stored",), fixed={})
                if not _SHA256.fullmatch(file_row.sha256 or ""):
                    raise InvalidInput(f"{at}.files[{k}].sha256", "must be a SHA-256 in hex")
                version.files.append(file_row)
                self._stored(ds, file_row, f.get("stored"), encrypted, f"{at}.files[{k}].stored")
            if version.number != j + 1:
                raise InvalidInput(at + ".number", f"must be {j + 1}: versions are numbered from 1, in order")
            self.rows.append(version)
            self.counts["versions"] += 1
        if ds.latest_version != len(item.get("versions") or []):
            raise InvalidInput(where + ".dataset.latest_version", "must be the number of the dataset's last version")
        members = set()
        for name, model in (("committee", CommitteeMember), ("links", ReviewLink)):
            for j, r in enumerate(item.get(name) or []):
                row = _make(model, r, f"{where}.{name}[{j}]", fixed=mine)
                _id(row.id, f"{where}.{name}[{j}].id")
                if model is CommitteeMember:
                    members.add(row.id)
                elif not 1 <= row.version_number <= ds.latest_version:
                    raise InvalidInput(f"{where}.{name}[{j}].version_number", "is not a version of the dataset")
                self.rows.append(row)
                self.counts[name] += 1
        for j, r in enumerate(item.get("requests") or []):
            at = f"{where}.requests[{j}]"
            req = _make(AccessRequest, r, at, extra=("decisions", "grant"), fixed=mine)
            _id(req.id, at + ".id")
            self.rows.append(req)
            self.counts["requests"] += 1
            for k, d in enumerate(r.get("decisions") or []):
                decision = _make(Decision, d, f"{at}.decisions[{k}]", fixed={"request_id": req.id})
                if decision.member_id not in members:
                    raise InvalidInput(f"{at}.decisions[{k}].member_id", "is not a member of this dataset's committee")
                self.rows.append(decision)
            if r.get("grant") is not None:
                grant = _make(Grant, r["grant"], at + ".grant", fixed=mine | {"request_id": req.id})
                _id(grant.id, at + ".grant.id")
                self.rows.append(grant)
                self.counts["grants"] += 1

    def _key(self, ctx, ds: Dataset, key, keys: dict, where: str) -> bool:
        """The dataset's key row (wrapped under the service's master key); True if its files are encrypted."""
        if key is None:
            if ds.access_level != policy.OPEN and ds.withdrawn_at is None:
                raise InvalidInput(where + ".key", "a dataset that is not open needs its data key")
            return False
        if not isinstance(key, dict):
            raise InvalidInput(where + ".key", "must be an object")
        times = {k: parse_when(f"{where}.key.{k}", key[k]) if key.get(k) else None
                 for k in ("created_at", "sealed_at", "destroyed_at")}  # fmt: skip
        master = ctx.keyring.master(create=True)
        if times["destroyed_at"] is not None:  # withdrawn: the key was destroyed, the files are gone
            self.rows.append(DatasetKey(dataset_id=ds.id, wrapped_key=None, master_key_id=master_key_id(master),
                                        created_at=times["created_at"] or ctx.now(), sealed_at=times["sealed_at"],
                                        destroyed_at=times["destroyed_at"]))  # fmt: skip
            return False
        try:
            data_key = base64.b64decode(keys.get(ds.id) or "", validate=True)
        except (binascii.Error, TypeError):
            data_key = b""
        if len(data_key) != 32:
            raise InvalidInput(f"keys.{ds.id}", "must be the dataset's 256-bit data key, base64")
        self.keys[ds.id] = data_key
        self.rows.append(("key", ds.id, data_key, times["created_at"] or ctx.now()))
        return True

    def _stored(self, ds: Dataset, f: VersionFile, how, encrypted: bool, where: str) -> None:
        if how is None:
            if ds.withdrawn_at is None and f.damaged_at is None:
                raise InvalidInput(where, "a file of a dataset in use must be sent")
            return
        if how == "plain":
            self.files.append((f"plain/{f.sha256}", f.sha256, f.size, ds.id if encrypted else None, "plain"))
        elif how == "encrypted" and encrypted:
            self.files.append((f"encrypted/{ds.id}/{f.sha256}", f.sha256, f.size, ds.id, "encrypted"))
        else:
            raise InvalidInput(where, "must be plain, or encrypted for a dataset with a data key")
        self.counts["files"] += 1


def _open(sent: dict, name: str):
    f = sent.get(name)
    if f is None:
        raise InvalidInput("folder", f"'{name}' was not sent")
    from .store import open_source

    return open_source(f)


def _old_events(sent: dict, audit_sha256: str):
    """The old chain's rows as sent, checked against the SHA-256 the client announced."""
    digest = hashlib.sha256()
    with _open(sent, AUDIT_FILE) as raw:
        for n, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
            digest.update(line.encode())
            try:
                row = json.loads(line)
            except ValueError:
                raise InvalidInput(AUDIT_FILE, f"line {n} is not JSON") from None
            if not isinstance(row, dict) or set(row) != {*FIELDS, "entry_hash"}:
                raise InvalidInput(AUDIT_FILE, f"line {n} is not an event of the audit log")
            yield row
    if digest.hexdigest() != audit_sha256:
        raise InvalidInput("audit_sha256", f"is not the SHA-256 of the {AUDIT_FILE} sent")


def check_old_chain(rows, audit: dict) -> tuple[int, str]:
    """Recompute the old chain: every event's hash, its length and head, its signed checkpoint."""
    if not isinstance(audit, dict):
        raise InvalidInput("bundle.audit", "must say where the old audit chain ends")
    try:
        public_key = bytes.fromhex(audit.get("public_key") or "")
    except ValueError:
        public_key = b""
    checkpoint = None
    if audit.get("checkpoint"):
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


def move_in(ctx, owner: str, body: dict, *, client: str | None = None) -> dict:
    """Check and add what ``body`` describes ({folder, bundle, keys, audit_sha256}); see the module."""
    if not isinstance(body, dict) or not isinstance(body.get("bundle"), dict):
        raise InvalidInput("bundle", "must be the bundle made by `jupyter datashare push-local`")
    bundle, folder = body["bundle"], body.get("folder")
    if bundle.get("format") != FORMAT:
        raise InvalidInput("bundle.format", f"must be '{FORMAT}'")
    root = share_root(ctx, owner)
    forbidden = forbidden_paths(ctx)
    sent = {f.relpath: f for f in paths.collect(root, paths.resolve(root, folder, forbidden=forbidden), forbidden=forbidden)}
    audit_sha256 = body.get("audit_sha256")
    old_size, old_head = check_old_chain(_old_events(sent, audit_sha256), bundle.get("audit"))
    plan = _Plan(ctx, owner, bundle, body.get("keys") or {})
    with reading(ctx.engine) as s:  # a first look, so that nothing is copied for a clash
        taken = s.scalars(select(Dataset.id).where(Dataset.id.in_(plan.datasets))).all()
    if taken:
        raise InvalidInput("bundle.datasets", f"'{taken[0]}' is already at the service: was this store moved in before?")
    fresh = [ds_id for ds_id in plan.keys if not ctx.store.encrypted.joinpath(ds_id).exists()]
    try:
        with ctx.store.pinning() as pins:  # from copy to commit, no clean-up takes them
            _copy_files(ctx, sent, plan, pins)
            summary = _commit(ctx, owner, plan, bundle["audit"], (old_size, old_head), sent, audit_sha256, client)
    except BaseException:
        for ds_id in fresh:
            ctx.store.remove_dataset(ds_id)  # only what this move made
        raise
    uploads.remove(ctx, owner, folder)  # what was sent is in the store now
    return summary


def _copy_files(ctx, sent: dict, plan: _Plan, pins) -> None:
    for name, sha, size, dataset_id, how in plan.files:
        with _open(sent, name) as src:
            if dataset_id is None:
                got, n = ctx.store.freeze(src, pins=pins)
            elif how == "plain":  # not encrypted yet where it came from: encrypted now
                got, n = ctx.store.freeze_encrypted(src, dataset_id, plan.keys[dataset_id])
            else:
                got, n = ctx.store.adopt_encrypted(src, sha, dataset_id), size
                problem = ctx.store.problem(sha, size, dataset_id, plan.keys[dataset_id])
                if problem:
                    raise InvalidInput("folder", f"'{name}' does not open with its dataset's key: {problem}")
        if (got, n) != (sha, size):
            raise InvalidInput("folder", f"'{name}' is not the file the bundle lists ({n} bytes, SHA-256 {got})")


_ORDER = (Dataset, DatasetKey, "key", DatasetVersion, CommitteeMember, ReviewLink, AccessRequest, Decision, Grant)


def _commit(ctx, owner, plan: _Plan, audit: dict, old: tuple[int, str], sent, audit_sha256, client) -> dict:
    store_id, now = new_id("mv-"), ctx.now()
    with ctx.audit.transaction() as s:
        try:
            # Flushed kind by kind, each after the rows it refers to.
            for kind in _ORDER:
                for row in plan.rows:
                    if isinstance(row, tuple) and kind == "key":  # a live data key, wrapped under this service's master key
                        ctx.keyring.add(s, row[1], row[2], row[3], sealed=True)
                    elif type(row) is kind:
                        s.add(row)
                s.flush()
        except IntegrityError:
            raise InvalidInput("bundle", "a link, request, grant or committee member in it is already at the "
                               "service (the same id or secret): was this store moved in before?") from None  # fmt: skip
        moved = MovedStore(id=store_id, owner=owner, moved_at=now, event_seq=0, old_size=old[0],
                           old_head_hash=old[1], old_public_key=audit["public_key"],
                           old_checkpoint=audit.get("checkpoint"), datasets=plan.datasets)  # fmt: skip
        s.add(moved)
        s.flush()
        batch = []
        for row in _old_events(sent, audit_sha256):
            batch.append(row | {"store_id": store_id})
            if len(batch) >= _BATCH:
                s.execute(insert(MovedAuditEvent), batch)
                batch = []
        if batch:
            s.execute(insert(MovedAuditEvent), batch)
        details = {"moved_store": store_id, "old_events": old[0], "old_head_hash": old[1],
                   "old_public_key": audit["public_key"], "datasets": len(plan.datasets), **plan.counts}  # fmt: skip
        moved.event_seq = ctx.audit.append(s, Event("store.moved_in", owner, client=client, details=details))
        for ds_id in plan.datasets:
            ctx.audit.append(s, Event("dataset.moved_in", owner, dataset_id=ds_id, client=client,
                                      details={"moved_store": store_id, "old_head_hash": old[1]}))  # fmt: skip
    return {"moved_store": store_id, "datasets": plan.datasets, **plan.counts,
            "old_audit": {"events": old[0], "head_hash": old[1]}, "event": moved.event_seq}  # fmt: skip


def _kept_events(s, store_id: str):
    """A moved store's old events, oldest first, a page at a time (memory stays at one page)."""
    after = 0
    while True:
        q = select(MovedAuditEvent).where(MovedAuditEvent.store_id == store_id, MovedAuditEvent.seq > after)
        page = s.scalars(q.order_by(MovedAuditEvent.seq).limit(_BATCH)).all()
        if not page:
            return
        for e in page:
            yield {k: getattr(e, k) for k in FIELDS} | {"entry_hash": e.entry_hash}
        after = page[-1].seq
        s.expunge_all()


def verify(ctx) -> list[dict]:
    """Each moved store's old chain, checked again: its events against their hashes, its head
    against what the service's own log recorded when it moved in."""
    out = []
    with reading(ctx.engine) as s:
        for moved in s.scalars(select(MovedStore).order_by(MovedStore.moved_at)).all():
            report = {"moved_store": moved.id, "owner": moved.owner, "events": moved.old_size, "ok": True}
            recorded = s.get(AuditEvent, moved.event_seq)
            details = (recorded.details or {}) if recorded is not None else {}
            rows = _kept_events(s, moved.id)
            try:
                if recorded is None or recorded.action != "store.moved_in" or \
                        details.get("old_head_hash") != moved.old_head_hash or details.get("old_events") != moved.old_size:  # fmt: skip
                    raise InvalidInput("moved_store", "does not match the move the service's log recorded")
                check_old_chain(rows, {"size": moved.old_size, "head_hash": moved.old_head_hash,
                                       "public_key": moved.old_public_key, "checkpoint": moved.old_checkpoint})  # fmt: skip
            except InvalidInput as exc:
                report |= {"ok": False, "problem": exc.message.removeprefix(exc.field + ": ")}
            out.append(report)
    return out


def old_events(ctx, owner: str, store_id: str):
    """A moved store's old chain, as JSON lines (``audit export`` of the old store), for its owner."""

    with reading(ctx.engine) as s:
        moved = s.get(MovedStore, store_id)
        if moved is None or moved.owner != owner:
            raise NotFound("no such moved store of yours")
        for row in _kept_events(s, store_id):
            yield json.dumps(row, ensure_ascii=False) + "\n"

