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
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import InvalidInput, NotFound
from .folders import forbidden_paths, share_root

SHA256 = re.compile(r"[0-9a-f]{64}")
FIELD = paths.FIELD
HASH_FIELD = "sha256"
PART = ".datashare-part"  # the end of every part file's name: never shared, never a target


@dataclass
class Target:
    path: Path  # where the file will be
    part: Path  # where its bytes gather until they are checked
    size: int
    sha256: str

    @property
    def received(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def done(self) -> bool:
        """Already in place: the target is this very file (a repeated upload is a no-op)."""
        return self.path.is_file() and self.path.stat().st_size == self.size and _hash(self.path) == self.sha256


def target(ctx, owner: str, rel, size, sha256) -> Target:
    """Where ``rel`` (relative to the owner's folder) goes, or InvalidInput naming what is wrong."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput("size", "must be the file's size in bytes")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise InvalidInput(HASH_FIELD, "must be the file's SHA-256, 64 lowercase hex digits")
    parts = paths.relative_parts(rel)  # as a share's path: never absolute, no '..', nothing hidden
    if parts[-1].endswith(PART):
        raise InvalidInput(FIELD, "must not name a part file of an upload")
    root = Path(os.path.realpath(share_root(ctx, owner, create=True)))
    where = root.joinpath(*parts)
    # Each existing folder on the way must be a real folder inside the root (no link out of it).
    here = root
    for p in parts[:-1]:
        here = here / p
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            raise InvalidInput(FIELD, f"'{p}' on the way is not a folder of yours")
    if where.is_symlink() or where.is_dir():
        raise InvalidInput(FIELD, f"'{rel}' is a folder or a link, not a file")
    forbidden = paths.Forbidden(forbidden_paths(ctx))
    if forbidden.holds(str(where)) or forbidden.is_inside(str(where)):
        raise InvalidInput(FIELD, f"'{rel}' is inside {paths.STORE}")
    return Target(where, where.with_name(f".{where.name}.{sha256[:16]}{PART}"), size, sha256)


class Writer:
    """Appends one chunk's bytes to a target's part; ``finish`` checks and places the file."""

    def __init__(self, t: Target, offset: int, length: int):
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", "must be a byte position")
        if offset + length > t.size:
            raise InvalidInput("size", f"the chunk ends at byte {offset + length}, past the file's {t.size} bytes")
        have = t.received
        if offset != have:
            raise InvalidInput("offset", f"must be {have}: the bytes received so far of this file")
        t.path.parent.mkdir(parents=True, exist_ok=True)
        self.t, self.expected_end, self.written = t, offset + length, 0
        self._hash = hashlib.sha256() if offset == 0 else None  # a resumed file is hashed whole at the end
        self._out = open(t.part, "ab")

    def write(self, chunk: bytes) -> None:
        if self._out.tell() + len(chunk) > self.expected_end:
            raise InvalidInput("size", "more bytes came than announced")
        self._out.write(chunk)
        self.written += len(chunk)
        if self._hash is not None:
            self._hash.update(chunk)

    def finish(self) -> dict:
        """After the chunk's last byte: the file's state; complete files are checked and placed."""
        self._out.flush()
        os.fsync(self._out.fileno())
        end = self._out.tell()
        self._out.close()
        if end != self.expected_end:
            raise InvalidInput("size", f"the chunk ended at byte {end}, not {self.expected_end}")
        if end < self.t.size:
            return {"received": end, "complete": False}
        digest = self._hash.hexdigest() if self._hash is not None and self.written == self.t.size else _hash(self.t.part)
        if digest != self.t.sha256:
            self.t.part.unlink(missing_ok=True)
            raise InvalidInput(HASH_FIELD, f"the bytes received hash to {digest}, not the announced {self.t.sha256}; "
                                           "nothing was kept: send the file again")  # fmt: skip
        os.replace(self.t.part, self.t.path)
        return {"received": end, "complete": True}

    def abandon(self) -> None:
        """The connection broke mid-chunk: what arrived stays, to be resumed from ``received``."""
        if not self._out.closed:
            self._out.close()


def remove(ctx, owner: str, rel) -> dict:
    """Take a file or folder (with all it holds) out of the owner's folder: what a client uploaded
    for a share, once the share holds it (its files are in the store now), or what a failed upload
    left. Never follows a link: a link is removed itself, not what it points to."""
    parts = paths.relative_parts(rel, include_hidden=True)
    root = Path(os.path.realpath(share_root(ctx, owner, create=True)))
    here = root
    for p in parts[:-1]:
        here = here / p
        if here.is_symlink() or not here.is_dir():
            raise NotFound(f"there is no '{rel}' in your folder")
    where = root.joinpath(*parts)
    if where.is_dir() and not where.is_symlink():
        count = sum(len(files) for _d, _s, files in os.walk(where))
        shutil.rmtree(where)
    elif os.path.lexists(where):
        count = 1
        where.unlink()
    else:
        raise NotFound(f"there is no '{rel}' in your folder")
    return {"removed_files": count}


def state(t: Target) -> dict:
    if t.done():
        return {"received": t.size, "complete": True}
    return {"received": t.received, "complete": False}


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
