"""Moving a local store into a datashare service, this machine's side: what the service needs, read
from the local database and store in one snapshot (core/move_in.py is the service's side).

``pack`` gives three things:

- the bundle: every dataset with its versions, files, committee, review links, access requests,
  decisions and grants, as rows (secrets only as the hashes the store keeps), and where the old
  audit chain ends (its size, head hash, signing key and newest signed checkpoint);
- the data keys of encrypted datasets, unwrapped: the service wraps them under its own master
  key (they travel in the request's body only, never in a file on the service's disk);
- the files to send: the old audit chain (JSON lines, as ``audit export`` writes them) and every
  stored file as it is on disk (encrypted ones stay encrypted: the same data key opens them).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from .errors import InvalidInput
from .keyring import DatasetKey
from .models import (
    AccessRequest,
    AuditCheckpoint,
    AuditHead,
    CommitteeMember,
    Dataset,
    DatasetVersion,
    Decision,
    Grant,
    ReviewLink,
    VersionFile,
)

FORMAT = "jupyter-datashare move-in 1"
AUDIT_FILE = "audit.jsonl"
# Columns never sent: the service numbers its own rows, and wraps keys under its own master key.
_LOCAL_ONLY = {"id", "version_id", "dataset_id", "request_id"}


@dataclass
class StoredFile:
    remote: str  # its name in the move-in folder: plain/<sha256> or encrypted/<dataset>/<sha256>
    local: str  # the stored file on this machine


@dataclass
class Pack:
    bundle: dict
    keys: dict[str, str]  # dataset id -> its data key, base64
    files: list[StoredFile] = field(default_factory=list)
    audit_path: str = ""


def _value(v):
    return v.isoformat() if isinstance(v, datetime) else v


def row(obj, keep_ids: bool = True) -> dict:
    """A row's columns as JSON values (times in ISO 8601)."""
    skip = set() if keep_ids else _LOCAL_ONLY
    return {c.key: _value(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def pack(ctx, workdir: str) -> Pack:
    """Read the whole store, as it is at one moment, into a Pack; the old audit chain is written
    to ``workdir``. The head is signed first, so the chain sent ends at a signed checkpoint."""
    ctx.audit.checkpoint()
    audit_path = os.path.join(workdir, AUDIT_FILE)
    with ctx.audit._snapshot() as s:
        head = s.get(AuditHead, 1)
        newest = s.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1))
        out = Pack(bundle={}, keys={}, audit_path=audit_path)
        datasets = [_dataset(ctx, s, ds, out) for ds in s.scalars(select(Dataset).order_by(Dataset.created_at))]
        with open(audit_path, "w", encoding="utf-8") as f:
            count = 0
            for e in ctx.audit._iter_all(s):
                f.write(json.dumps(ctx.audit._as_dict(e), ensure_ascii=False) + "\n")
                count += 1
        out.bundle = {
            "format": FORMAT,
            "audit": {"size": head.size if head else 0, "head_hash": head.head_hash if head else "0" * 64,
                      "public_key": ctx.audit.public_key.hex(), "checkpoint": newest.note if newest else None,
                      "events": count},
            "datasets": datasets,
        }  # fmt: skip
    plain = {f.remote: f for f in out.files}  # one copy of a file that several datasets hold
    out.files = sorted(plain.values(), key=lambda f: f.remote)
    return out


def _dataset(ctx, s, ds: Dataset, out: Pack) -> dict:
    key_row = s.get(DatasetKey, ds.id)
    live_key = key_row is not None and key_row.wrapped_key is not None
    if live_key:
        out.keys[ds.id] = base64.b64encode(ctx.keyring.unwrap(key_row)).decode()
    versions = []
    for v in s.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id).order_by(DatasetVersion.number)):
        files = []
        for f in s.scalars(select(VersionFile).where(VersionFile.version_id == v.id).order_by(VersionFile.path)):
            files.append(row(f, keep_ids=False) | {"stored": _send_stored(ctx, ds, f, live_key, out)})
        versions.append(row(v, keep_ids=False) | {"files": files})
    members = s.scalars(select(CommitteeMember).where(CommitteeMember.dataset_id == ds.id).order_by(CommitteeMember.added_at))
    links = s.scalars(select(ReviewLink).where(ReviewLink.dataset_id == ds.id).order_by(ReviewLink.created_at))
    requests = []
    for r in s.scalars(select(AccessRequest).where(AccessRequest.dataset_id == ds.id).order_by(AccessRequest.submitted_at)):
        decisions = s.scalars(select(Decision).where(Decision.request_id == r.id).order_by(Decision.decided_at))
        grant = s.scalar(select(Grant).where(Grant.request_id == r.id))
        requests.append(row(r) | {"decisions": [row(d, keep_ids=False) for d in decisions],
                                  "grant": row(grant) if grant else None})  # fmt: skip
    key = None
    if key_row is not None:
        key = {"created_at": _value(key_row.created_at), "sealed_at": _value(key_row.sealed_at),
               "destroyed_at": _value(key_row.destroyed_at)}  # fmt: skip
    return {"dataset": row(ds), "key": key, "versions": versions, "committee": [row(m) for m in members],
            "links": [row(link) for link in links], "requests": requests}  # fmt: skip


def _send_stored(ctx, ds: Dataset, f: VersionFile, live_key: bool, out: Pack) -> str | None:
    """How the file is stored (and so sent): encrypted, plain, or not at all (a withdrawn
    dataset's files are gone). A damaged file stops the move: it is never taken on trust."""
    if ds.withdrawn_at is not None:
        return None
    if f.damaged_at is not None:
        raise InvalidInput("datasets", f"'{f.path}' of {ds.id} is damaged here: repair it "
                                       "(`jupyter datashare store check`) or withdraw the dataset, then move")  # fmt: skip
    if live_key and ctx.store.has(f.sha256, ds.id):
        out.files.append(StoredFile(f"encrypted/{ds.id}/{f.sha256}", str(ctx.store.path(f.sha256, ds.id))))
        return "encrypted"
    out.files.append(StoredFile(f"plain/{f.sha256}", str(ctx.store.path(f.sha256))))
    return "plain"
