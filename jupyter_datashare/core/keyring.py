"""Keys of encrypted datasets, and moving a dataset's files into encrypted storage.

The key hierarchy::

    master key    32 bytes: c.DataShareApp.master_key (base64), else the file master_key_file,
                  else <data_dir>/master.key (0600; made on first need)
      wraps       one random 256-bit data key per encrypted dataset (AES key wrap, RFC 3394),
                  stored wrapped in the table dataset_keys
        derives   one key per stored file (HKDF with the file's random salt; see ``crypto``)

Every dataset that is not open has a data key, and its files are stored encrypted under it. A
dataset keeps its key (and its files stay encrypted) if it later becomes open. Withdrawing a
dataset destroys its wrapped data key in the withdrawal's own transaction (crypto-shredding),
then deletes its encrypted files: a copy of those files taken earlier can no longer be read with
anything the system keeps. Backups of the database taken before a withdrawal still hold the
wrapped key; they must expire for the shredding to be complete.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import ForeignKey, LargeBinary, String, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from . import crypto, policy
from .audit import Event
from .db import reading, writing
from .errors import DataShareError, InvalidInput, KeyUnavailable
from .models import Base, Dataset, DatasetVersion, UTCDateTime, VersionFile
from .store import SourceUnreadable

MASTER_KEY_FILE = "master.key"
log = logging.getLogger(__name__)


class DatasetKey(Base):
    """A dataset's data key, wrapped by the master key; ``wrapped_key`` is None once destroyed."""

    __tablename__ = "dataset_keys"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    # Which master key wrapped it, so a wrong master key gives a clear message.
    master_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Since when every file of the dataset is stored encrypted.
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def decode_master_key(value: str) -> bytes:
    """A configured master key: 32 bytes in base64 (standard or URL-safe alphabet)."""
    try:
        raw = base64.b64decode(value.strip().replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != crypto.KEY_SIZE:
        raise InvalidInput("master_key", "must be 32 random bytes in base64, e.g. from: openssl rand -base64 32")
    return raw


def master_key_id(master: bytes) -> str:
    """A short public name of a master key (a hash: it reveals nothing of the key)."""
    return hashlib.sha256(b"jupyter-datashare master key id\n" + master).hexdigest()[:16]


class Keyring:
    """The master key (loaded on first use) and wrapping and unwrapping of data keys."""

    def __init__(self, engine, data_dir: str | os.PathLike, configured_master_key: str = "",
                 master_key_file: str | os.PathLike = ""):  # fmt: skip
        self.engine = engine
        # A key file away from the data (another volume, a mounted secret) means a copy of the
        # data directory alone reads nothing.
        self.path = Path(master_key_file).expanduser() if master_key_file else Path(data_dir) / MASTER_KEY_FILE
        self._master = decode_master_key(configured_master_key) if configured_master_key else None
        self._lock = threading.Lock()

    def master(self, create: bool = False) -> bytes:
        """The master key; with ``create``, the key file is made if there is none yet."""
        with self._lock:
            if self._master is None:
                self._master = self._load_or_create_file(create)
            return self._master

    def _load_or_create_file(self, create: bool) -> bytes:
        if self.path.exists():
            if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
                try:
                    os.chmod(self.path, 0o600)  # never leave the key readable by others
                except OSError:  # a read-only mounted secret: its owner decides
                    log.warning("the master key file %s is readable by others and cannot be changed", self.path)
            raw = self.path.read_bytes()
            if len(raw) == crypto.KEY_SIZE:
                return raw
            try:  # a mounted secret usually holds text: the key in base64
                return decode_master_key(raw.decode("ascii"))
            except (UnicodeDecodeError, InvalidInput):
                raise KeyUnavailable(f"{self.path} is not a master key (32 bytes, or 32 bytes in base64)") from None
        if not create or self._live_keys():
            # A new master key would not unwrap the keys already stored: refuse rather than orphan them.
            raise KeyUnavailable(
                f"the master key file {self.path} is missing: restore it from a backup, "
                "or configure c.DataShareApp.master_key or master_key_file"
            )
        raw = os.urandom(crypto.KEY_SIZE)
        # Written whole under another name, then linked into place: a process starting at the
        # same moment finds either no key file or the whole key, never an empty one.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".master.key-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, self.path)
            except FileExistsError:  # another process made it first; use theirs
                return self._load_or_create_file(False)
        finally:
            os.unlink(tmp)
        return raw

    def _live_keys(self) -> int:
        with reading(self.engine) as s:
            return s.scalar(select(func.count()).select_from(DatasetKey).where(DatasetKey.wrapped_key.is_not(None)))

    def new_data_key(self) -> bytes:
        """A fresh data key; makes sure the master key exists first, so sharing fails early."""
        self.master(create=True)
        return os.urandom(crypto.KEY_SIZE)

    def add(self, session, dataset_id: str, data_key: bytes, now: datetime, *, sealed: bool) -> DatasetKey:
        master = self.master(create=True)
        row = DatasetKey(
            dataset_id=dataset_id,
            wrapped_key=aes_key_wrap(master, data_key),
            master_key_id=master_key_id(master),
            created_at=now,
            sealed_at=now if sealed else None,
        )
        session.add(row)
        session.flush()
        return row

    def unwrap(self, row: DatasetKey) -> bytes:
        if row.wrapped_key is None:
            raise KeyUnavailable("this dataset's key was destroyed when it was withdrawn")
        master = self.master()
        current = master_key_id(master)
        if row.master_key_id != current:
            raise KeyUnavailable(
                f"this dataset's key was wrapped by master key {row.master_key_id}, "
                f"but the master key in use is {current}"
            )
        try:
            return aes_key_unwrap(master, row.wrapped_key)
        except InvalidUnwrap:
            raise KeyUnavailable("this dataset's wrapped key is damaged and cannot be unwrapped") from None


# -- what reads and dataset changes ask of it --------------------------------------------------


def key_for_file(ctx, dataset_id: str, sha256: str) -> bytes | None:
    """The data key if this file of the dataset is stored encrypted; None if it is stored plain."""
    with reading(ctx.engine) as s:
        row = s.get(DatasetKey, dataset_id)
    if row is None or not ctx.store.has(sha256, dataset_id):
        return None  # no key, or this file's encryption is still under way: the plain blob is there
    return ctx.keyring.unwrap(row)


def has_key(ctx, dataset_id: str) -> bool:
    with reading(ctx.engine) as s:
        return s.get(DatasetKey, dataset_id) is not None


def encrypts(session, dataset: Dataset) -> bool:
    """Whether new files of this dataset are stored encrypted."""
    return dataset.access_level != policy.OPEN or session.get(DatasetKey, dataset.id) is not None


def _dataset_shas(session, dataset_id: str) -> set[str]:
    q = select(VersionFile.sha256).join(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
    return set(session.scalars(q))


def seal(ctx, dataset_id: str, *, actor: str = "system", client: str | None = None) -> bytes:
    """Make sure every file of the dataset is stored encrypted; returns its data key.

    The key row is committed first (not yet sealed), so an interrupted run resumes with the same
    key, and two processes sealing at once agree on it. Until a file's encrypted copy exists,
    reads use its plain copy, which is removed only afterwards.
    """
    now = ctx.now()
    with writing(ctx.engine) as s:
        ds = s.get(Dataset, dataset_id)
        if ds is None or ds.withdrawn_at is not None:
            raise InvalidInput("id", "the dataset was withdrawn or does not exist")
        row = s.get(DatasetKey, dataset_id)
        if row is None:
            data_key = ctx.keyring.new_data_key()
            ctx.keyring.add(s, dataset_id, data_key, now, sealed=False)
        else:
            data_key = ctx.keyring.unwrap(row)
    encrypted = 0
    while True:
        with reading(ctx.engine) as s:
            shas = _dataset_shas(s, dataset_id)
        for sha in sorted(shas):
            if not ctx.store.has(sha, dataset_id):
                try:
                    ctx.store.encrypt_existing(sha, dataset_id, data_key)
                except SourceUnreadable:
                    if not ctx.store.has(sha, dataset_id):
                        raise
                    continue  # another process sealed it just now, and removed the plain copy
                encrypted += 1
        with writing(ctx.engine) as s:
            # A version published meanwhile may have brought plain files: check under the lock.
            pending = [sha for sha in _dataset_shas(s, dataset_id) if not ctx.store.has(sha, dataset_id)]
            row = s.get(DatasetKey, dataset_id)
            if not pending and row.sealed_at is None:
                row.sealed_at = now
                ctx.audit.append(s, Event("dataset.encrypted", actor, dataset_id=dataset_id, client=client,
                                          details={"files": encrypted}))  # fmt: skip
        if not pending:
            break
    _remove_plain(ctx, shas)
    return data_key


def seal_pending(ctx) -> list[str]:
    """Finish encrypting every dataset that should be encrypted and is not entirely yet: stores
    from before encryption at rest, and runs interrupted by a crash. Returns the datasets done."""
    with reading(ctx.engine) as s:
        rows = s.execute(
            select(Dataset.id, Dataset.access_level, DatasetKey.dataset_id, DatasetKey.sealed_at)
            .outerjoin(DatasetKey, DatasetKey.dataset_id == Dataset.id)
            .where(Dataset.withdrawn_at.is_(None))
        ).all()
        todo = [
            ds_id
            for ds_id, level, keyed, sealed_at in rows
            if (level != policy.OPEN or keyed is not None)
            and (sealed_at is None or any(not ctx.store.has(sha, ds_id) for sha in _dataset_shas(s, ds_id)))
        ]
    done = []
    for ds_id in todo:
        try:
            seal(ctx, ds_id)
            done.append(ds_id)
        except (DataShareError, OSError) as exc:
            # Keep starting: the dataset stays readable from its plain copy; retried next start.
            log.warning("could not encrypt the files of dataset %s yet: %s", ds_id, exc)
    return done


def plain_needed(ctx) -> set[str]:
    """SHA-256s whose plain blob some live dataset still reads (it has no encrypted copy)."""
    with reading(ctx.engine) as s:
        rows = s.execute(
            select(VersionFile.sha256, Dataset.id, DatasetKey.dataset_id)
            .join(DatasetVersion, VersionFile.version_id == DatasetVersion.id)
            .join(Dataset, DatasetVersion.dataset_id == Dataset.id)
            .outerjoin(DatasetKey, DatasetKey.dataset_id == Dataset.id)
            .where(Dataset.withdrawn_at.is_(None))
        ).all()
    return {sha for sha, ds_id, keyed in rows if keyed is None or not ctx.store.has(sha, ds_id)}


def _remove_plain(ctx, shas) -> None:
    with ctx.store.cleaning():  # what is needed, read under the lock (store.py)
        keep = plain_needed(ctx) | ctx.store.pinned()
        for sha in shas:
            if sha not in keep:
                ctx.store.remove(sha)


# -- withdrawal ---------------------------------------------------------------------------------


def destroy(ctx, session, dataset_id: str, now: datetime, *, actor: str, client: str | None = None) -> bool:
    """Destroy the dataset's data key inside the caller's (withdrawal) transaction."""
    row = session.get(DatasetKey, dataset_id)
    if row is None or row.wrapped_key is None:
        return False
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite would otherwise leave the old row's bytes in the page's free space.
        session.execute(text("PRAGMA secure_delete=ON"))
    row.wrapped_key, row.destroyed_at = None, now
    session.flush()
    if sqlite:
        session.execute(text("PRAGMA secure_delete=OFF"))
    ctx.audit.append(session, Event("dataset.key_destroyed", actor, dataset_id=dataset_id, client=client))
    return True


def remove_withdrawn_files(ctx, dataset_id: str) -> None:
    """After a withdrawal commits: delete its encrypted files and the plain ones nobody needs."""
    ctx.store.remove_dataset(dataset_id)
    with ctx.store.cleaning():  # what is needed, read under the lock (store.py)
        ctx.store.delete_unreferenced(plain_needed(ctx))
    if ctx.engine.dialect.name == "sqlite":
        # Move the pages rewritten without the key into the database file and empty the
        # write-ahead log, which still holds earlier copies of them (best effort: a reader
        # that is busy right now can keep some until the next checkpoint).
        raw = ctx.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
