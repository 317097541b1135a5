"""The file store.

Files of open datasets are content-addressed: ``blobs/<sha[:2]>/<sha>``, kept once per distinct
content however many datasets share it. Files of every other dataset are encrypted with that
dataset's key (``crypto``), so they cannot be shared between datasets; they live in
``encrypted/<dataset id>/<sha>``, still once per content within the dataset (across versions).

Several processes may use one store (servers on one database, the CLI, notebooks). A clean-up
that deletes plain blobs no committed version needs (a withdrawal's, a seal's, the store check's)
decides from the database, so it runs under the store's clean-up lock (``cleaning``), and a share
puts each file in place, and back the blobs it pinned, under the shared side of that lock
(``_write``, ``pinning``): a share that commits while a clean-up runs gets its blobs back after
it, whatever the clean-up read before, and an old copy a share found and reuses is never taken.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from . import crypto, paths

COPY_CHUNK = 1 << 20  # one reused buffer, no bytes object per chunk (8 MiB measured slower: out of cache)
VERIFY_CHUNK = 4 << 20
STALE_PINS_SECONDS = 24 * 3600  # a share still freezing after a day is taken to have crashed


class SourceUnreadable(OSError):
    """The file to freeze is gone, unreadable, or no longer a regular file."""

    def __init__(self, source, reason: str):
        super().__init__(f"{source}: {reason}")
        self.reason = reason


def _open_source(source) -> BinaryIO:
    """Open a file to freeze, refusing one swapped for a link or a special file since it was checked.

    A share may be checked well before it is frozen (a background job). A file listed by
    ``paths.collect`` is opened one folder at a time from the server root without following
    links, and only if it is still the file that was checked (same device and inode); any other
    path is opened with O_NOFOLLOW. O_NONBLOCK keeps a FIFO from hanging.
    """
    if isinstance(source, paths.SourceFile):
        try:
            fd = paths.open_checked(source)
        except OSError as exc:
            raise SourceUnreadable(source.abspath, getattr(exc, "reason", None) or exc.strerror or str(exc)) from None
        return os.fdopen(fd, "rb")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        raise SourceUnreadable(source, exc.strerror or str(exc)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SourceUnreadable(source, "no longer a regular file")
    return os.fdopen(fd, "rb")


def open_source(source) -> BinaryIO:
    """The file ``freeze`` would read, opened (see ``_open_source``): to freeze it and read it
    again (a preview) from the very same file."""
    return _open_source(source)


def copy_chunks(src: BinaryIO, out: BinaryIO, each: Callable[[memoryview], None] | None = None,
                progress: Callable[[int], None] | None = None) -> int:  # fmt: skip
    """Copy all of ``src`` to ``out`` through one reused buffer; ``each`` sees every block before
    it is written. Returns the bytes copied."""
    buf = memoryview(bytearray(min(COPY_CHUNK, max(crypto.size_hint(src), 64 << 10))))  # a small file allocates little
    size = 0
    while n := src.readinto(buf):
        block = buf[:n]
        if each:
            each(block)
        write_all(out, block)
        size += n
        if progress:
            progress(n)
    return size


def write_all(out: BinaryIO, data: memoryview) -> None:
    """Write all of ``data`` (an unbuffered file may write part of it)."""
    while data:
        data = data[out.write(data):]


WRITEBACK_EVERY = 32 << 20


class _WritingBack:
    """A file being written whose bytes start going to disk every ``WRITEBACK_EVERY`` bytes
    (Linux ``sync_file_range``, asynchronous): the disk works while the next blocks are read,
    hashed and encrypted, and the one fsync at the end waits for the tail only. A durability
    guarantee comes from that fsync alone, never from this."""

    def __init__(self, raw):
        self.raw, self.written, self.started = raw, 0, 0

    def fileno(self) -> int:
        return self.raw.fileno()

    def write(self, data) -> int:
        n = self.raw.write(data)
        self.written += n
        if self.written - self.started >= WRITEBACK_EVERY and _sync_file_range:
            _sync_file_range(self.raw.fileno(), self.started, self.written - self.started, 2)  # SYNC_FILE_RANGE_WRITE
            self.started = self.written
        return n


def _libc_sync_file_range():
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError, ImportError):
        return None  # not Linux: the fsync does all the work, as before
    fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    return fn


_sync_file_range = _libc_sync_file_range()


class BlobStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.encrypted = self.root / "encrypted"
        self.tmp = self.root / "tmp"
        self.pins = self.root / "pins"
        for d in (self.blobs, self.encrypted, self.tmp, self.pins):
            d.mkdir(parents=True, exist_ok=True)
        self._recover_pins()

    def path(self, sha256: str, dataset_id: str | None = None) -> Path:
        """Where a file is kept: in plain form, or encrypted for ``dataset_id``."""
        if dataset_id is None:
            return self.blobs / sha256[:2] / sha256
        return self.encrypted / _safe(dataset_id) / sha256

    def has(self, sha256: str, dataset_id: str | None = None) -> bool:
        return self.path(sha256, dataset_id).is_file()

    def freeze(self, source, progress=None, pins: Pins | None = None) -> tuple[str, int]:
        """Copy ``source`` (a path, a checked ``paths.SourceFile`` or a file from ``open_source``)
        into the store, hashing as it goes; returns (sha256, size). With ``pins``, the stored
        content is kept alive until the share using it is committed."""

        def copy(src: BinaryIO, out: BinaryIO) -> tuple[str, int]:
            digest = hashlib.sha256()
            # The hash is of the very bytes written (not re-read from the source, which may
            # change meanwhile): a blob's content is always its name.
            size = copy_chunks(src, out, lambda view: digest.update(view), progress)
            return digest.hexdigest(), size

        return self._write(source, copy, None, pins=pins)

    def freeze_encrypted(self, source, dataset_id: str, data_key: bytes, progress=None) -> tuple[str, int]:
        """Encrypt ``source`` into the dataset's part of the store; returns the plaintext's (sha256, size)."""
        return self._write(source, lambda src, out: crypto.encrypt(data_key, src, out, progress), dataset_id)

    def adopt_encrypted(self, source, sha256: str, dataset_id: str) -> str:
        """Keep, as it is, a file encrypted elsewhere under the dataset's data key (a store moved
        in, core/move_in.py); returns its name. ``problem`` checks it before anything relies on it."""

        def copy(src: BinaryIO, out: BinaryIO) -> tuple[str, int]:
            return sha256, copy_chunks(src, out)

        return self._write(source, copy, dataset_id)[0]

    def encrypt_existing(self, sha256: str, dataset_id: str, data_key: bytes) -> None:
        """Encrypt a plain blob for ``dataset_id`` (when a dataset stops being open).

        The plain blob is checked against its name on the way: damaged bytes are never sealed in.
        """
        source = self.path(sha256)
        self._write(source, lambda src, out: crypto.encrypt(data_key, src, out), dataset_id, expect=sha256)

    def _write(self, source, fill: Callable[[BinaryIO, BinaryIO], tuple[str, int]], dataset_id, expect=None,
               pins: Pins | None = None):  # fmt: skip
        """Write through a temporary file, synced, then renamed into place, so a crash never
        leaves a half-written file under a valid name."""
        # Opened before the temporary file: nothing to clean up if it fails. An open file is used as is.
        with nullcontext(source) if hasattr(source, "read") else _open_source(source) as src:
            fd, tmp_name = tempfile.mkstemp(dir=self.tmp)
            try:
                # Unbuffered: the fills write large blocks; fsync'd once, before the rename.
                with os.fdopen(fd, "wb", buffering=0) as raw:
                    out = _WritingBack(raw) if WRITEBACK_EVERY else raw
                    sha, size = fill(src, out)
                    os.fsync(out.fileno())
                if expect is not None and sha != expect:
                    raise crypto.DamagedFile("the plain copy does not match its checksum, so it was not encrypted")
                target = self.path(sha, dataset_id)
                os.chmod(tmp_name, 0o400)
                if pins is not None:
                    pins.add(tmp_name, sha)  # before looking: a clean-up may remove the stored copy now
                # Not during a clean-up: an old copy found here could be taken right after the look.
                with _store_lock(self.root, exclusive=False):
                    try:
                        # Identical content is already stored (for this dataset): made young
                        # again, so that the next clean-up leaves it (store_check's cut-off).
                        os.utime(target)
                        os.unlink(tmp_name)
                    except FileNotFoundError:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(tmp_name, target)
                        _sync_dir(target.parent)
                return sha, size
            except BaseException:
                if os.path.exists(tmp_name):
                    os.unlink(tmp_name)
                raise

    def open(self, sha256: str, dataset_id: str | None = None) -> BinaryIO:
        """The stored bytes as they are on disk (encrypted for a dataset id): for ``reads`` only.

        A plain blob that a clean-up took from under a share which has committed since, but not
        yet put its pins back (another process, right now), is read from that share's pin."""
        try:
            return open(self.path(sha256, dataset_id), "rb", buffering=0)
        except FileNotFoundError:
            if dataset_id is not None:
                raise
            for pin_dir in _entries(self.pins):
                try:
                    return open(pin_dir / sha256, "rb", buffering=0)
                except (FileNotFoundError, NotADirectoryError):
                    continue
            raise

    def problem(self, sha256: str, size: int, dataset_id: str | None = None, data_key: bytes | None = None) -> str | None:
        """What is wrong with a stored file, or None: a plain copy must hash to its name and
        size, an encrypted one authenticate segment by segment and decrypt to its checksum.

        Only a verdict leaves this method, never a byte: serving bytes is ``reads``' alone.
        """
        try:
            f = self.open(sha256, dataset_id)
        except FileNotFoundError:
            return "the stored copy is missing"
        digest, n = hashlib.sha256(), 0
        with f:
            if dataset_id is None:
                while chunk := f.read(VERIFY_CHUNK):
                    digest.update(chunk)
                    n += len(chunk)
                if n != size:
                    return f"{n} bytes are stored where {size} were shared"
            else:
                try:
                    stored = crypto.EncryptedFile(f, data_key, size, sha256)
                    stored.verify_final()
                    for view in stored.views(0, size - 1, VERIFY_CHUNK) if size else ():
                        digest.update(view)
                except crypto.DamagedFile as exc:
                    return exc.problem
                if not size:
                    return None
        if digest.hexdigest() != sha256:
            if dataset_id is not None:
                return "it decrypts to bytes whose SHA-256 is not the one recorded when it was shared"
            return f"the stored bytes hash to {digest.hexdigest()}, not to the SHA-256 recorded when it was shared"
        return None

    def remove(self, sha256: str) -> bool:
        """Remove one plain blob; True if it was there."""
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False

    def remove_dataset(self, dataset_id: str) -> None:
        """Remove every encrypted file of a dataset (withdrawal, or a share that failed)."""
        shutil.rmtree(self.encrypted / _safe(dataset_id), ignore_errors=True)

    def delete_unreferenced(self, referenced: Iterable[str]) -> int:
        """Remove plain blobs no version needs any more, nor a share in progress has pinned;
        returns how many were removed. Run it under ``cleaning``, ``referenced`` read there too."""
        keep = set(referenced) | self.pinned()
        removed = 0
        for sub in self.blobs.iterdir():
            for blob in sub.iterdir():
                if blob.name not in keep:
                    blob.unlink(missing_ok=True)
                    removed += 1
        return removed

    def pinned(self) -> set[str]:
        """The plain blobs that shares in progress (in any process) have pinned."""
        return {pin.name for pin_dir in _entries(self.pins) for pin in _entries(pin_dir)}

    @contextmanager
    def cleaning(self) -> Iterator[None]:
        """Held by whatever deletes plain blobs for not being needed, from reading what is needed
        until the last deletion: no share can drop its pins meanwhile (see ``pinning``)."""
        with _store_lock(self.root, exclusive=True):
            yield

    @contextmanager
    def pinning(self) -> Iterator[Pins]:
        """Pins for the plain blobs of one share or version, for as long as it runs.

        Use around both the freeze and the commit: a withdrawal's clean-up, which deletes blobs
        no committed version needs, may run meanwhile and delete one this share froze or found
        already stored. The pins are hard links, so the bytes survive; after the commit every
        pinned blob is put back in place if it went, then the pins go.
        """
        # Named after when it began, and locked while it runs: the store check (store_check.py)
        # tells a share running in any process from one that crashed (the OS drops its lock).
        pins = Pins(Path(tempfile.mkdtemp(dir=self.pins, prefix=f"{int(time.time())}-")))
        lock = _lock_dir(pins.dir)
        committed = False
        try:
            yield pins
            committed = True
        finally:
            # Not while a clean-up runs: it may have read what is needed before this commit and
            # deleted a blob since; after it, the pins put every such blob back.
            with _store_lock(self.root, exclusive=False):
                try:
                    if committed:
                        self._restore_from(pins.dir)
                finally:
                    shutil.rmtree(pins.dir, ignore_errors=True)
            if lock is not None:  # after: never seen unlocked while it is there
                os.close(lock)

    def _restore_from(self, pin_dir: Path) -> None:
        for pin in pin_dir.iterdir():
            target = self.path(pin.name)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(pin, target)
                except FileExistsError:
                    continue
                _sync_dir(target.parent)

    def _recover_pins(self) -> None:
        """After a crash between a commit and its restore: put pinned blobs back (the content
        is its name, so restoring one nobody needs is harmless), and drop pins left long ago."""
        for pin_dir in self.pins.iterdir():
            try:
                self._restore_from(pin_dir)
                # Old but locked: a long share still running (in any process) needs its pins.
                if time.time() - pin_dir.stat().st_mtime > STALE_PINS_SECONDS and not pin_holder_running(pin_dir):
                    shutil.rmtree(pin_dir, ignore_errors=True)
            except OSError:
                continue  # another process is releasing it right now


class Pins:
    """Hard links to the plain blobs of a share in progress (see ``BlobStore.pinning``)."""

    def __init__(self, directory: Path):
        self.dir = directory

    def add(self, path: str | os.PathLike, sha256: str) -> None:
        try:
            os.link(path, self.dir / sha256)
        except FileExistsError:
            pass  # the same content twice in one share


def pin_holder_running(pin_dir: Path) -> bool:
    """Whether the share that made this pin folder still runs (it holds the folder's lock)."""
    try:
        import fcntl
    except ImportError:
        return True  # cannot tell: take it to run (its age still lets it go after a day)
    try:
        fd = os.open(pin_dir, os.O_RDONLY)
    except OSError:
        return False  # gone: it finished
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


CLEAN_LOCK = "clean.lock"


@contextmanager
def _store_lock(root: Path, exclusive: bool) -> Iterator[None]:
    """The store's clean-up lock (a file lock, so it holds across processes; POSIX only)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(root / CLEAN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # gone, or not a folder: a share finishing right now
        return []


def _lock_dir(path: Path) -> int | None:
    """Hold an exclusive lock on a folder until the returned descriptor is closed (POSIX only)."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _safe(dataset_id: str) -> str:
    # Dataset ids are generated ("ds-" + urlsafe characters); refuse anything path-like anyway.
    if not dataset_id or "/" in dataset_id or "\\" in dataset_id or dataset_id.startswith("."):
        raise ValueError(f"not a dataset id: {dataset_id!r}")
    return dataset_id


def _sync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry is data too (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
