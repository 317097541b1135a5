"""Content-addressed blob store: a file is kept once per distinct content, named by its SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterable

COPY_CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.tmp = self.root / "tmp"
        for d in (self.blobs, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def freeze(self, source: str | os.PathLike, progress=None) -> tuple[str, int]:
        """Copy ``source`` into the store, hashing as it goes; returns (sha256, size).

        The copy is written to a temporary file, synced, then renamed into place, so a
        crash never leaves a half-written blob under a valid name.
        """
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(COPY_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path(sha)
            if target.exists():
                os.unlink(tmp_name)  # identical content is already stored
            else:
                target.parent.mkdir(exist_ok=True)
                os.chmod(tmp_name, 0o400)
                os.replace(tmp_name, target)
            return sha, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb", buffering=0)

    def delete_unreferenced(self, referenced: Iterable[str]) -> int:
        """Remove blobs no version refers to any more; returns how many were removed."""
        keep = set(referenced)
        removed = 0
        for sub in self.blobs.iterdir():
            for blob in sub.iterdir():
                if blob.name not in keep:
                    blob.unlink()
                    removed += 1
        return removed
