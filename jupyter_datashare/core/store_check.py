"""Checking the file store: damaged files, and leftovers of crashed shares.

``check`` re-reads every stored file of every live dataset: a plain blob must hash to its name
and size, an encrypted one must authenticate segment by segment under its dataset's key (and
decrypt to its checksum). A damaged file is named (dataset, version, path), marked in the
database and recorded as a ``file.corrupt`` event once; ``reads.open_file`` then refuses it.

``reclaim`` removes what a crash leaves behind (a killed share, a kill -9 mid-version):
temporary files in ``store/tmp``, encrypted folders of datasets that never came to exist (or were
withdrawn), encrypted files and plain blobs no version refers to, and pin folders of shares that
died. Never anything a running share may still use: a share holds a lock on its pin folder
(``BlobStore.pinning``) from its first byte to its commit, in whichever process it runs, so
while one runs nothing written after it began is touched, nor any blob it pinned; and nothing
younger than ``older_than`` seconds, nor than a minute, is removed at all. It runs under the
store's clean-up lock (``BlobStore.cleaning``), like a withdrawal's clean-up.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from . import keyring
from .audit import Event
from .db import reading, writing
from .errors import KeyUnavailable
from .models import Dataset, DatasetVersion, VersionFile
from .store import STALE_PINS_SECONDS, pin_holder_running

log = logging.getLogger(__name__)
MIN_AGE_SECONDS = 60.0  # a file written within the last minute may belong to a write under way (a sealing)


@dataclass
class Damage:
    dataset_id: str
    version: int
    path: str
    sha256: str
    problem: str
    new: bool = True  # False: already known from an earlier check


@dataclass
class Leftovers:
    tmp_files: int = 0
    orphan_datasets: int = 0  # encrypted folders of datasets that do not exist (or were withdrawn)
    unreferenced_files: int = 0  # encrypted files and plain blobs no version refers to
    dead_pins: int = 0
    bytes: int = 0
    kept_in_use: int = 0  # left alone: younger than the threshold, or written since a running share began
    removed: bool = False


@dataclass
class CheckReport:
    files: int = 0
    bytes: int = 0
    damaged: list[Damage] = field(default_factory=list)
    repaired: list[Damage] = field(default_factory=list)  # marked damaged before, intact now
    unchecked: list[str] = field(default_factory=list)  # e.g. a key that cannot be used
    leftovers: Leftovers = field(default_factory=Leftovers)

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.unchecked

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


# -- damaged files ------------------------------------------------------------------------------


def _where(ctx, dataset_id: str, sha: str):
    """(data key or None, place) of the copy ``reads`` would serve."""
    data_key = keyring.key_for_file(ctx, dataset_id, sha)
    return data_key, (dataset_id if data_key else None, sha)


def find_damage(ctx, *, actor: str = "system", client: str | None = None) -> CheckReport:
    """Re-read every stored file of every live dataset; mark and record what is damaged."""
    report = CheckReport()
    with reading(ctx.engine) as s:
        rows = s.execute(
            select(VersionFile.id, Dataset.id, DatasetVersion.number, VersionFile.path, VersionFile.sha256,
                   VersionFile.size, VersionFile.damaged_at)
            .join(DatasetVersion, VersionFile.version_id == DatasetVersion.id)
            .join(Dataset, DatasetVersion.dataset_id == Dataset.id)
            .where(Dataset.withdrawn_at.is_(None))
            .order_by(Dataset.id, DatasetVersion.number, VersionFile.path)
        ).all()  # fmt: skip
    seen: dict[tuple, str | None] = {}  # each stored copy is read once, however many versions share it
    to_mark, to_clear, damaged_places = [], [], set()
    for file_id, ds_id, number, path, sha, size, damaged_at in rows:
        try:
            data_key, place = _where(ctx, ds_id, sha)
            if place not in seen:
                seen[place] = _problem(ctx, place, size, data_key)
                report.bytes += size
            problem, now_place = seen[place], place
            if problem is not None:
                # Sealed (moved to encrypted storage) while we read? Look once more where it is now.
                data_key, now_place = _where(ctx, ds_id, sha)
                if now_place != place:
                    problem = seen[now_place] = _problem(ctx, now_place, size, data_key)
        except KeyUnavailable as exc:
            report.unchecked.append(f"{ds_id} v{number} {path}: {exc.message}")
            continue
        report.files += 1
        if problem is not None:
            damaged_places.add(now_place)
            damage = Damage(ds_id, number, path, sha, problem, new=damaged_at is None)
            report.damaged.append(damage)
            if damage.new:
                to_mark.append((file_id, damage))
        elif damaged_at is not None:
            to_clear.append((file_id, Damage(ds_id, number, path, sha, "intact again", new=False)))
            report.repaired.append(to_clear[-1][1])
    if to_mark or to_clear:
        _record(ctx, to_mark, to_clear, actor, client)
    for dataset_id, sha in damaged_places:
        if dataset_id is None:
            _move_aside(ctx.store, sha)
    return report


def _move_aside(store, sha: str) -> None:
    """Keep a damaged plain blob in store/damaged/, out of the way: a freeze finding identical
    content already stored keeps the stored copy, so sharing the same file again would get the
    damaged one, silently. (A damaged encrypted copy stays: it can never be read silently, as it
    fails authentication, and sealing needs it where it is.)"""
    source = store.path(sha)
    target = store.root / "damaged" / sha
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        pass  # missing: nothing to move


def _problem(ctx, place, size: int, data_key) -> str | None:
    dataset_id, sha = place
    if dataset_id is None:
        return ctx.store.problem(sha, size)
    return ctx.store.problem(sha, size, dataset_id, data_key)


def _record(ctx, to_mark, to_clear, actor: str, client: str | None) -> None:
    now = ctx.now()
    with writing(ctx.engine) as s:
        for file_id, d in to_mark:
            done = s.execute(update(VersionFile).where(VersionFile.id == file_id, VersionFile.damaged_at.is_(None))
                             .values(damaged_at=now, damage=d.problem))  # fmt: skip
            if done.rowcount:  # another check may have got there first
                ctx.audit.append(s, Event("file.corrupt", actor, outcome="error", dataset_id=d.dataset_id,
                                          version=d.version, file=d.path, reason=d.problem, client=client,
                                          details={"sha256": d.sha256, "found_by": "store check"}))  # fmt: skip
        for file_id, d in to_clear:  # e.g. the store was restored from a backup
            done = s.execute(update(VersionFile).where(VersionFile.id == file_id, VersionFile.damaged_at.is_not(None))
                             .values(damaged_at=None, damage=None))  # fmt: skip
            if done.rowcount:
                ctx.audit.append(s, Event("file.repaired", actor, dataset_id=d.dataset_id, version=d.version,
                                          file=d.path, client=client, details={"sha256": d.sha256}))  # fmt: skip


# -- leftovers ----------------------------------------------------------------------------------


def _began(pin_dir: Path) -> float:
    """When a share began, from its pin folder's name; 0 (the dawn of time) if unknown."""
    head = pin_dir.name.split("-", 1)[0]
    return float(head) if head.isdigit() else 0.0


def _newest(path: Path) -> float:
    """The latest modification time of a file, or of a folder and anything in it."""
    newest = path.lstat().st_mtime
    if path.is_dir():
        for sub in path.rglob("*"):
            try:
                newest = max(newest, sub.lstat().st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())
    return path.lstat().st_size


def reclaim(ctx, *, older_than: float = STALE_PINS_SECONDS, remove: bool = True, actor: str = "system",
            client: str | None = None) -> Leftovers:  # fmt: skip
    """Find (and with ``remove``, delete) what crashed shares left behind; see the module doc."""
    with ctx.store.cleaning():  # what is in use, read under the lock (store.py)
        found = _reclaim(ctx, older_than, remove)
    if remove and found.bytes + found.tmp_files + found.orphan_datasets + found.unreferenced_files + found.dead_pins:
        with ctx.audit.transaction() as s:
            ctx.audit.append(s, Event("store.reclaimed", actor, client=client, details={
                k: v for k, v in asdict(found).items() if k not in ("removed", "kept_in_use")}))  # fmt: skip
    return found


def _reclaim(ctx, older_than: float, remove: bool) -> Leftovers:
    store = ctx.store
    started = time.time()
    cutoff = started - max(older_than, MIN_AGE_SECONDS)
    live, dead = [], []
    for pin_dir in store.pins.iterdir():
        (live if pin_holder_running(pin_dir) else dead).append(pin_dir)
    if live:  # nothing a running share may have written: everything since the earliest began
        cutoff = min(cutoff, min(_began(p) for p in live) - 2)
    found = Leftovers(removed=remove)
    # Dead shares' pins first: their blobs go back in place (one may have committed before it
    # died), then whatever no version needs goes with the other unreferenced blobs below.
    for pin_dir in dead:
        _take(found, "dead_pins", pin_dir, cutoff, remove, before=store._restore_from)
    pinned = {pin.name for p in live for pin in _entries(p)}
    # Read after the pins: a share committing now was running when they were listed.
    with reading(ctx.engine) as s:
        live_datasets = set(s.scalars(select(Dataset.id).where(Dataset.withdrawn_at.is_(None))))
        shas_of = {}
        for ds_id, sha in s.execute(select(DatasetVersion.dataset_id, VersionFile.sha256)
                                    .join(VersionFile, VersionFile.version_id == DatasetVersion.id)):  # fmt: skip
            shas_of.setdefault(ds_id, set()).add(sha)
    plain_needed = keyring.plain_needed(ctx)

    candidates: list[tuple[str, Path]] = [("tmp_files", p) for p in store.tmp.iterdir()]
    for folder in store.encrypted.iterdir():
        if folder.name not in live_datasets:
            candidates.append(("orphan_datasets", folder))
        else:
            keep = shas_of.get(folder.name, set())
            candidates += [("unreferenced_files", f) for f in folder.iterdir() if f.name not in keep]
    for sub in store.blobs.iterdir():
        candidates += [("unreferenced_files", b) for b in sub.iterdir() if b.name not in plain_needed and b.name not in pinned]
    for kind, path in candidates:
        _take(found, kind, path, cutoff, remove)
    return found


def _take(found: Leftovers, kind: str, path: Path, cutoff: float, remove: bool, before=None) -> None:
    """Count (and remove) one leftover unless it changed since ``cutoff``."""
    try:
        if _newest(path) >= cutoff:
            found.kept_in_use += 1
            return
        size = _size(path)
        if remove:
            if before is not None:
                before(path)
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    except FileNotFoundError:
        return  # finished or removed by someone else meanwhile
    setattr(found, kind, getattr(found, kind) + 1)
    found.bytes += size


def _entries(pin_dir: Path) -> list[Path]:
    try:
        return list(pin_dir.iterdir())
    except OSError:
        return []


def check(ctx, *, repair: bool = False, older_than: float = STALE_PINS_SECONDS, actor: str = "system",
          client: str | None = None) -> CheckReport:  # fmt: skip
    """The whole store check: damaged files always; leftovers listed, and removed with ``repair``."""
    report = find_damage(ctx, actor=actor, client=client)
    report.leftovers = reclaim(ctx, older_than=older_than, remove=repair, actor=actor, client=client)
    return report


def reclaim_at_start(ctx) -> Leftovers | None:
    """Start-up clean-up of leftovers older than a day; never stops the start (logged instead)."""
    try:
        found = reclaim(ctx)
    except Exception:  # noqa: BLE001 - a clean-up that fails is retried at the next start
        log.warning("jupyter_datashare: could not reclaim the store's leftovers this time", exc_info=True)
        return None
    if found.bytes or found.tmp_files or found.orphan_datasets or found.unreferenced_files or found.dead_pins:
        log.info("jupyter_datashare: reclaimed %d bytes left by interrupted shares", found.bytes)
    return found
