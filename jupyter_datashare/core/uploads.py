"""Files sent to the service into their owner's folder, checked against their SHA-256 before they
are kept: what a Jupyter server in client mode (or any client) uploads before it shares or makes a
new version of that folder (the service shares from the owner's folder, ``folders.share_root``).

An upload is written beside its target as a part file and takes the target's place only once all
of its bytes are there and their SHA-256 is the one the client announced; until then the target,
if any, is unchanged. Large files come in chunks (``offset`` is where a chunk starts): a part's
name holds the announced hash, so an interrupted upload goes on from ``received`` bytes, from
any process, and a different file under the same path starts afresh.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass

from . import paths
from .errors import InvalidInput, NoRoom, NotFound
from .folders import forbidden_paths, share_root

SHA256 = re.compile(r"[0-9a-f]{64}")
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")
UPLOAD_FIELD = "upload"
FIELD = paths.FIELD
HASH_FIELD = "sha256"
PART = ".datashare-part"  # the end of every part file's name: never shared, never a target


_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class _Folder:
    """The folder a file goes into, opened from the owner's root one name at a time without
    following links (O_NOFOLLOW), and everything done in it relative to that descriptor: a folder
    or part file swapped for a link at any moment leads nowhere else (the owner may write their
    folder by other means, e.g. a shared home)."""

    def __init__(self, root: str, parts: list[str], *, create: bool, rel: str):
        self.fd = os.open(root, _DIR)
        try:
            for name in parts:
                try:
                    next_fd = os.open(name, _DIR, dir_fd=self.fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(name, 0o700, dir_fd=self.fd)
                    next_fd = os.open(name, _DIR, dir_fd=self.fd)
                except OSError:  # a link (ELOOP with O_NOFOLLOW), a file
                    raise InvalidInput(FIELD, f"'{name}' on the way to '{rel}' is not a folder of yours") from None
                os.close(self.fd)
                self.fd = next_fd
        except BaseException:
            os.close(self.fd)
            raise

    def lstat(self, name: str):
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class Target:
    root: str  # the owner's folder, resolved
    parts: list[str]  # the folders on the way, then the file's name
    size: int
    sha256: str  # "" until the request with the last bytes, in an upload named by ``upload_id``
    upload_id: str = ""
    # Not hashed on arrival: the client shares it next with its SHA-256 in the manifest, which the
    # freeze checks as it copies the file into the store (once, not twice).
    checked_at_share: bool = False

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def part_name(self) -> str:
        key = "u" + self.upload_id if self.upload_id else self.sha256[:16]
        return f".{self.name}.{key}{PART}"

    def folder(self, create: bool = False) -> _Folder:
        return _Folder(self.root, self.parts[:-1], create=create, rel="/".join(self.parts))

    def received(self, folder: _Folder) -> int:
        st = folder.lstat(self.part_name)
        if st is None:
            return 0
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            raise InvalidInput(FIELD, f"'{'/'.join(self.parts)}' has a part file that is not a plain file of its own")
        return st.st_size

    def done(self, folder: _Folder) -> bool:
        """Already in place: the target is this very file (a repeated upload is a no-op)."""
        if not self.sha256:
            return False
        st = folder.lstat(self.name)
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != self.size:
            return False
        return _hash_at(folder, self.name) == self.sha256


def _where(ctx, owner: str, rel) -> tuple[str, list[str]]:
    """The owner's folder (resolved) and the names along ``rel`` in it, never a part file's, never
    into what is not shared (the store, the keys, the database, should they lie in the root).
    Nothing hidden: were the root people's homes, ``.ssh/authorized_keys`` would be a real one."""
    parts = paths.relative_parts(rel)  # as a share's path: never absolute, no '..'
    if parts[-1].endswith(PART):
        raise InvalidInput(FIELD, "must not name a part file of an upload")
    root = os.path.realpath(share_root(ctx, owner, create=True))
    where = os.path.join(root, *parts)
    never = forbidden_paths(ctx)
    forbidden = paths.Forbidden(never)
    if forbidden.holds(where) or forbidden.is_inside(where) or \
            any(os.path.realpath(f).startswith(where + os.sep) for f in never):  # fmt: skip
        raise InvalidInput(FIELD, f"'{rel}' is or holds {paths.STORE}")
    return root, parts


def target(ctx, owner: str, rel, size, sha256, upload_id: str = "", *, checked_at_share: bool = False) -> Target:
    """Where ``rel`` (relative to the owner's folder) goes, or InvalidInput naming what is wrong.

    ``upload_id`` (a client's random name for one upload) lets the SHA-256 come with the last
    bytes only: a client hashes a file as it sends it, instead of reading it twice.
    ``checked_at_share``: see Target."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput("size", "must be the file's size in bytes")
    if upload_id and not UPLOAD_ID.fullmatch(upload_id):
        raise InvalidInput(UPLOAD_FIELD, "must be 16 to 43 letters, digits, '-' or '_' (a random name of the upload)")
    if not isinstance(sha256, str) or not (SHA256.fullmatch(sha256) or (upload_id and sha256 == "")):
        raise InvalidInput(HASH_FIELD, "must be the file's SHA-256, 64 lowercase hex digits")
    root, parts = _where(ctx, owner, rel)
    t = Target(root, parts, size, sha256, upload_id, checked_at_share)
    try:
        with t.folder() as folder:
            st = folder.lstat(t.name)
    except FileNotFoundError:
        return t  # folders made on the first chunk
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidInput(FIELD, f"'{rel}' is a folder or a link, not a file")
    return t


def check_room(t: Target, length: int, keep_free: int) -> None:
    """NoRoom if writing ``length`` bytes into the target's folder would leave less than
    ``keep_free`` bytes on its disk: one caller filling it would stop every share and download."""
    free = shutil.disk_usage(t.root).free
    if free - length < keep_free:
        raise NoRoom(f"the service's disk has {free} bytes free; {length} more would leave less than the "
                     f"{keep_free} it keeps free: remove what you uploaded and did not share, or ask its administrator")


class Writer:
    """Appends one chunk's bytes to a target's part; ``finish`` checks and places the file."""

    def __init__(self, t: Target, offset: int, length: int):
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", "must be a byte position")
        if offset + length > t.size:
            raise InvalidInput("size", f"the chunk ends at byte {offset + length}, past the file's {t.size} bytes")
        if offset + length == t.size and not t.sha256:
            raise InvalidInput(HASH_FIELD, "the request with a file's last bytes must announce its SHA-256")
        self.folder = t.folder(create=True)
        try:
            have = t.received(self.folder)
            if offset != have:
                raise InvalidInput("offset", f"must be {have}: the bytes received so far of this file")
            fd = os.open(t.part_name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o600, dir_fd=self.folder.fd)
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size != have:
                os.close(fd)
                raise InvalidInput(FIELD, "the part file changed while it was opened; send the chunk again")
        except BaseException:
            self.folder.close()
            raise
        self.t, self.expected_end, self.written = t, offset + length, 0
        self._key = (st.st_dev, st.st_ino)
        # The hash of bytes [0, offset): new, or carried over from this part's previous request in
        # this process if nothing touched the part since (same size and modification time); else
        # (another process had it, a restart) the whole part is hashed at the end.
        if t.checked_at_share:
            self._hash = None
        else:
            self._hash = hashlib.sha256() if offset == 0 else _running.take(self._key + (offset, st.st_mtime_ns))
        self._out = os.fdopen(fd, "ab")

    def write(self, chunk: bytes) -> None:
        if self._out.tell() + len(chunk) > self.expected_end:
            raise InvalidInput("size", "more bytes came than announced")
        self._out.write(chunk)
        self.written += len(chunk)
        if self._hash is not None:
            self._hash.update(chunk)

    def finish(self) -> dict:
        """After the chunk's last byte: the file's state; complete files are checked and placed."""
        try:
            # No fsync: an upload is a copy on its way to the store, whose freeze makes it durable
            # (and checks each hash again against the manifest). A part a crash left short or with
            # lost bytes fails its hash at the end and is sent again (checked at share: fails the
            # share's manifest check instead, and is sent again); it never gets shared.
            self._out.flush()
            end = self._out.tell()
            mtime = os.fstat(self._out.fileno()).st_mtime_ns
            self._out.close()
            if end != self.expected_end:
                raise InvalidInput("size", f"the chunk ended at byte {end}, not {self.expected_end}")
            if end < self.t.size:
                if self._hash is not None:
                    _running.keep(self._key + (end, mtime), self._hash)
                return {"received": end, "complete": False}
            if self.t.checked_at_share:
                digest = self.t.sha256  # checked by the share's freeze, against the client's manifest
            else:
                digest = self._hash.hexdigest() if self._hash is not None else _hash_at(self.folder, self.t.part_name)
            if digest != self.t.sha256:
                os.unlink(self.t.part_name, dir_fd=self.folder.fd)
                raise InvalidInput(HASH_FIELD, f"the bytes received hash to {digest}, not the announced {self.t.sha256}; "
                                               "nothing was kept: send the file again")  # fmt: skip
            st = self.folder.lstat(self.t.name)
            if st is not None and not stat.S_ISREG(st.st_mode):
                raise InvalidInput(FIELD, f"'{'/'.join(self.t.parts)}' is a folder or a link, not a file")
            os.replace(self.t.part_name, self.t.name, src_dir_fd=self.folder.fd, dst_dir_fd=self.folder.fd)
            return {"received": end, "complete": True}
        finally:
            self.folder.close()

    def abandon(self) -> None:
        """The connection broke mid-chunk: what arrived stays, to be resumed from ``received``."""
        if not self._out.closed:
            self._out.close()
            self.folder.close()


def remove(ctx, owner: str, rel) -> dict:
    """Take a file or folder (with all it holds) out of the owner's folder: what a client uploaded
    for a share, once the share holds it (its files are in the store now), or what a failed upload
    left. Never follows a link: a link is removed itself, not what it points to."""
    root, parts = _where(ctx, owner, rel)
    try:
        folder = _Folder(root, parts[:-1], create=False, rel=str(rel))
    except (FileNotFoundError, InvalidInput):
        raise NotFound(f"there is no '{rel}' in your folder") from None
    with folder:
        name = parts[-1]
        st = folder.lstat(name)
        if st is None:
            raise NotFound(f"there is no '{rel}' in your folder")
        if stat.S_ISDIR(st.st_mode):
            count = _count_files(folder.fd, name)
            shutil.rmtree(name, dir_fd=folder.fd)  # descriptor-based: links inside are removed, never followed
        else:
            count = 1
            os.unlink(name, dir_fd=folder.fd)
    return {"removed_files": count}


def _count_files(parent_fd: int, name: str) -> int:
    fd = os.open(name, _DIR, dir_fd=parent_fd)
    try:
        return sum(len(files) for _d, _s, files, _fd in os.fwalk(dir_fd=fd))
    finally:
        os.close(fd)


class _Running:
    """Hashes of parts between two requests of one upload, in this process (a few hundred at most)."""

    MOST = 256

    def __init__(self):
        self._lock, self._hashes = threading.Lock(), OrderedDict()

    def keep(self, key, h) -> None:
        with self._lock:
            self._hashes[key] = h
            while len(self._hashes) > self.MOST:
                self._hashes.popitem(last=False)

    def take(self, key):
        with self._lock:
            return self._hashes.pop(key, None)


_running = _Running()


def state(t: Target) -> dict:
    try:
        with t.folder() as folder:
            if t.done(folder):
                return {"received": t.size, "complete": True}
            return {"received": t.received(folder), "complete": False}
    except FileNotFoundError:
        return {"received": 0, "complete": False}


def _hash_at(folder: _Folder, name: str) -> str:
    fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=folder.fd)
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
