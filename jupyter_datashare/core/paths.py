"""Which files under the server root may be shared.

Every check names the ``path`` field. The root comparison is done on resolved paths with a
trailing separator, so neither symlinks nor sibling folders such as ``/data2`` next to
``/data`` get through (jupyter-server CVE-2026-35397 was that prefix trick).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

FIELD = "path"


@dataclass(frozen=True)
class SourceFile:
    relpath: str  # path inside the dataset, with "/" separators
    abspath: str


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def resolve(root: str, rel, include_hidden: bool = False, forbidden: tuple[str, ...] = ()) -> Path:
    """Turn the user's relative ``path`` into an absolute path inside ``root``, or refuse."""
    if not isinstance(rel, str) or not rel.strip():
        raise InvalidInput(FIELD, "is required: a file or folder relative to the server root")
    if "\x00" in rel:
        raise InvalidInput(FIELD, "contains a NUL character")
    if rel.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", rel) or os.path.isabs(rel):
        raise InvalidInput(FIELD, "must be relative to the server root, not an absolute path")
    parts = [p for p in re.split(r"[\\/]+", rel) if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(FIELD, "must not contain '..'")
    if not parts:
        raise InvalidInput(FIELD, "must name a file or folder inside the server root, not the root itself")
    if not include_hidden and any(_is_hidden(p) for p in parts):
        raise InvalidInput(FIELD, "is hidden; set include_hidden to share hidden files")
    root_real = os.path.realpath(root)
    full = os.path.join(root_real, *parts)
    if not os.path.lexists(full):
        raise InvalidInput(FIELD, f"'{rel}' does not exist")
    real = os.path.realpath(full)
    if not _inside(real, root_real) or real == root_real:
        raise InvalidInput(FIELD, f"'{rel}' leaves the server root")
    for other in forbidden:
        if _inside(real, os.path.realpath(other)) or _inside(os.path.realpath(other), real):
            raise InvalidInput(FIELD, f"'{rel}' holds the data-sharing store itself")
    return Path(real)


def collect(root: str, target: Path, include_hidden: bool = False) -> list[SourceFile]:
    """The regular files of ``target`` (a file or a folder), sorted, with dataset-relative paths."""
    root_real = os.path.realpath(root)
    if target.is_file():
        return [SourceFile(target.name, str(target))]
    if not target.is_dir():
        raise InvalidInput(FIELD, "is neither a regular file nor a folder")
    found: list[SourceFile] = []
    seen_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(target, followlinks=True):
        real_dir = os.path.realpath(dirpath)
        rel_dir = os.path.relpath(dirpath, target)
        if not _inside(real_dir, root_real):
            raise InvalidInput(FIELD, f"folder '{rel_dir}' is a link that leaves the server root")
        if real_dir in seen_dirs:  # a link loop: walk each real folder once
            dirnames[:] = []
            continue
        seen_dirs.add(real_dir)
        if not include_hidden:
            dirnames[:] = [d for d in dirnames if not _is_hidden(d)]
        dirnames.sort()
        for name in sorted(filenames):
            if not include_hidden and _is_hidden(name):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            real = os.path.realpath(full)
            if not _inside(real, root_real):
                raise InvalidInput(FIELD, f"'{rel}' is a link that leaves the server root")
            try:
                mode = os.stat(real).st_mode
            except FileNotFoundError:
                raise InvalidInput(FIELD, f"'{rel}' is a broken link") from None
            if not stat.S_ISREG(mode):
                raise InvalidInput(FIELD, f"'{rel}' is not a regular file")
            found.append(SourceFile(rel, real))
    if not found:
        raise InvalidInput(FIELD, "is an empty folder: there is nothing to share")
    return sorted(found, key=lambda f: f.relpath)
