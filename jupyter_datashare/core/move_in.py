"""Moving a local store into the service, the service's side: the owner sent their stored files and
old audit chain into a folder of theirs (``api/files``), then the bundle and the data keys
(core/move_out.py made them); ``move_in`` checks all of it and adds it, all or nothing.

- Every dataset becomes the caller's, with its versions, files, committee, review links, access
  requests, decisions and grants, each row checked (core/bundles.py). Secrets exist only as their
  hashes, which carry over, so links already sent keep working at the service's URL.
- Every stored file is checked before anything is committed: a plain one must hash to its name,
  an encrypted one authenticate and decrypt to its checksum under the dataset's data key, which
  is wrapped under the service's master key.
- The old audit chain must verify and is kept as it was (core/old_chains.py); the service's log
  records the move with the old head hash (``store.moved_in``, and ``dataset.moved_in`` for each
  dataset, which its owner reads).
- The last transaction adds only the bundle's rows and the events: a failure before or in it
  leaves the service as it was (what was copied is removed; the folder sent stays for another try).
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import old_chains, paths, uploads
from .audit import Event
from .bundles import Plan
from .db import reading
from .errors import DataShareError, InvalidInput
from .folders import forbidden_paths, share_root
from .keyring import DatasetKey
from .models import AccessRequest, CommitteeMember, Dataset, DatasetVersion, Decision, Grant, MovedStore, ReviewLink
from .move_out import AUDIT_FILE, FORMAT
from .secrets import new_id
from .store import SourceUnreadable, open_source

# One move at a time in a process: each copies and checks a whole store.
_one_at_a_time = threading.Lock()
# Flushed kind by kind, each after the rows it refers to ("key": live keys, wrapped as added).
_ORDER = (Dataset, DatasetKey, "key", DatasetVersion, CommitteeMember, ReviewLink, AccessRequest, Decision, Grant)


class MoveUnderWay(InvalidInput):
    status = 409


class Clash(InvalidInput):
    """Something of the bundle is already at the service."""

    status = 409


STALE_SECONDS = 3600.0  # a claim or a half-kept chain this old is a move that died (a crash)


def move_in(ctx, owner: str, body: dict, *, client: str | None = None) -> dict:
    """Check and add what ``body`` describes ({folder, bundle, keys, audit_sha256}); see the module."""
    # A clash says that some id or secret hash of the bundle exists: counted like a failed look-up
    # of a secret, per account, so that bundles are no faster a way to test guesses than links.
    ctx.limiter.check_client("user:" + owner)
    if not _one_at_a_time.acquire(blocking=False):
        raise MoveUnderWay("bundle", "another store is being moved in right now: try again in a few minutes")
    try:
        return _move_in(ctx, owner, body, client)
    except Clash:
        ctx.limiter.failure("user:" + owner)
        raise
    finally:
        _one_at_a_time.release()


def _move_in(ctx, owner: str, body: dict, client: str | None) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("bundle"), dict):
        raise InvalidInput("bundle", "must be the bundle made by `jupyter datashare push-local`")
    bundle, folder, audit_sha256 = body["bundle"], body.get("folder"), body.get("audit_sha256")
    if bundle.get("format") != FORMAT:
        raise InvalidInput("bundle.format", f"must be '{FORMAT}'")
    root, forbidden = share_root(ctx, owner), forbidden_paths(ctx)
    sent = {f.relpath: f for f in paths.collect(root, paths.resolve(root, folder, forbidden=forbidden), forbidden=forbidden)}

    def open_chain():
        return _open(sent, AUDIT_FILE)

    old = old_chains.check(old_chains.read_sent(open_chain, audit_sha256), bundle.get("audit"))
    plan = Plan(ctx, owner, bundle, body.get("keys") or {})
    with reading(ctx.engine) as s:  # a first look, so that nothing is copied for a clash
        taken = s.scalars(select(Dataset.id).where(Dataset.id.in_(plan.datasets))).all()
    if taken:
        raise Clash("bundle.datasets", f"'{taken[0]}' is already at the service: was this store moved in before?")
    old_chains.forget_stale(ctx, owner, STALE_SECONDS)  # a move of theirs that died half-way
    claimed = []
    store = MovedStore(id=new_id("mv-"), owner=owner, moved_at=ctx.now(), event_seq=0, old_size=old[0],
                       old_head_hash=old[1], old_public_key=bundle["audit"]["public_key"],
                       old_checkpoint=bundle["audit"].get("checkpoint"), datasets=plan.datasets)  # fmt: skip
    kept, summary, committed = False, None, False
    try:
        for ds_id in plan.keys:  # claimed, so that a move of the same datasets at once fails here
            _claim(ctx, ds_id)
            claimed.append(ds_id)
        kept = True
        old_chains.keep(ctx, store, old_chains.read_sent(open_chain, audit_sha256))
        with ctx.store.pinning() as pins:  # from copy to commit, no clean-up takes them
            _copy_files(ctx, sent, plan, pins)
            summary = _commit(ctx, owner, plan, store, client)
            committed = True
    except BaseException:
        if summary is None and not _maybe_committed(ctx, store.id):  # once committed, nothing is undone
            if kept:
                old_chains.forget(ctx, store.id)
            for ds_id in claimed:
                ctx.store.remove_dataset(ds_id)  # only what this move made
        if not committed:
            raise
    try:
        uploads.remove(ctx, owner, folder)  # what was sent is in the store now
    except (OSError, DataShareError):  # moved in all the same: the folder is the owner's to remove
        pass
    return summary


def _maybe_committed(ctx, store_id: str) -> bool:
    """Whether the move's last transaction may have committed after all (a database that failed
    as it answered): then its datasets may be live, and nothing of them is removed."""
    try:
        return old_chains.recorded(ctx, store_id)
    except SQLAlchemyError:
        return True  # cannot tell: leave what was copied (a clean-up reclaims it if it is not needed)


def _claim(ctx, dataset_id: str) -> None:
    """The dataset's folder in the store, made by this move, or Clash; one left by a move that
    died long ago (no dataset of that id exists) is taken over."""
    folder = ctx.store.encrypted / dataset_id
    try:
        os.mkdir(folder, 0o700)
        return
    except FileExistsError:
        pass
    with reading(ctx.engine) as s:
        exists = s.get(Dataset, dataset_id) is not None
    if exists or time.time() - os.stat(folder).st_mtime < STALE_SECONDS:
        raise Clash("bundle.datasets", f"'{dataset_id}' is being moved in, or is already at the service")
    ctx.store.remove_dataset(dataset_id)
    os.mkdir(folder, 0o700)


def _open(sent: dict, name: str):
    f = sent.get(name)
    if f is None:
        raise InvalidInput("folder", f"'{name}' was not sent")
    try:
        return open_source(f)
    except SourceUnreadable as exc:  # removed or changed in the folder since it was listed
        raise InvalidInput("folder", f"'{name}' changed or could not be read during the move ({exc.reason})") from None


def _copy_files(ctx, sent: dict, plan: Plan, pins) -> None:
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


def _commit(ctx, owner: str, plan: Plan, store: MovedStore, client) -> dict:
    counts = plan.counts
    with ctx.audit.transaction() as s:
        try:
            for kind in _ORDER:
                for row in plan.rows:
                    if isinstance(row, tuple) and kind == "key":  # a live data key, wrapped under this service's master key
                        ctx.keyring.add(s, row[1], row[2], row[3], sealed=True)
                    elif type(row) is kind:
                        s.add(row)
                s.flush()
        except IntegrityError:
            raise Clash("bundle", "a dataset, link, request, grant or committee member in it is already at "
                               "the service (the same id or secret): was this store moved in before?") from None  # fmt: skip
        details = {"moved_store": store.id, "old_events": store.old_size, "old_head_hash": store.old_head_hash,
                   "old_public_key": store.old_public_key, "datasets": len(plan.datasets), **counts}  # fmt: skip
        seq = ctx.audit.append(s, Event("store.moved_in", owner, client=client, details=details))
        s.get(MovedStore, store.id).event_seq = seq  # recorded: from now on it counts
        for ds_id in plan.datasets:
            ctx.audit.append(s, Event("dataset.moved_in", owner, dataset_id=ds_id, client=client,
                                      details={"moved_store": store.id, "old_head_hash": store.old_head_hash}))  # fmt: skip
    return {"moved_store": store.id, "datasets": plan.datasets, **counts,
            "old_audit": {"events": store.old_size, "head_hash": store.old_head_hash}, "event": seq}  # fmt: skip
