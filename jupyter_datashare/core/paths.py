"""Which files under the server root may be shared.

Every check names the ``path`` field. The root comparison is done on resolved paths with a
trailing separator, so neither symlinks nor sibling folders such as ``/data2`` next to
``/data`` get through (jupyter-server CVE-2026-35397 was that prefix trick).

Nothing that is part of the data-sharing store (its folder, files, keys, database) is ever
shared, however it is reached: every folder and file walked is checked against it by resolved
location and by identity (device and inode, which also catches hard links). A file checked
here is opened again for freezing with ``open_checked``: one folder at a time from the root,
following no link, and only if it is still the very file that was checked.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

FIELD = "path"
STORE = "the data-sharing store (its files, keys or database)"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# Walking from the root by directory descriptors needs openat(); elsewhere (Windows) the
# identity check of ``open_checked`` is what catches a swap.
_BENEATH = bool(_NOFOLLOW and _DIRECTORY) and os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


@dataclass(frozen=True)
class SourceFile:
    relpath: str  # path inside the dataset, with "/" separators
    abspath: str
    root: str = ""  # the resolved server root it was checked under
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) when it was checked
    size: int | None = None


class Changed(OSError):
    """A checked file can no longer be opened as it was checked; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Forbidden:
    """Paths that must never be shared, by resolved location and by identity (device, inode)."""

    def __init__(self, paths=()):
        self.reals: list[str] = []
        self.ids: set[tuple[int, int]] = set()
        for p in paths:
            if not p:
                continue
            p = os.path.abspath(os.path.expanduser(os.fspath(p)))
            self.reals.append(os.path.realpath(p))
            try:
                st = os.stat(p)
            except OSError:
                continue  # not made yet: its location is still forbidden
            self.ids.add((st.st_dev, st.st_ino))

    def holds(self, real: str) -> bool:
        """``real`` (resolved) is one of the forbidden paths or inside one."""
        return any(_inside(real, f) for f in self.reals)

    def is_inside(self, real: str) -> bool:
        """A forbidden path lies inside ``real`` (a folder that holds the store)."""
        return any(_inside(f, real) for f in self.reals)

    def is_one(self, st: os.stat_result) -> bool:
        return (st.st_dev, st.st_ino) in self.ids


def _forbidden(forbidden) -> Forbidden:
    return forbidden if isinstance(forbidden, Forbidden) else Forbidden(forbidden)


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def relative_parts(rel, include_hidden: bool = False) -> list[str]:
    """The names along the user's relative ``path`` (nothing absolute, no '..', not the root
    itself, nothing hidden unless asked), or InvalidInput; whether they exist is not asked."""
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
    return parts


def resolve(root: str, rel, include_hidden: bool = False, forbidden=()) -> Path:
    """Turn the user's relative ``path`` into an absolute path inside ``root``, or refuse."""
    parts = relative_parts(rel, include_hidden)
    root_real = os.path.realpath(root)
    full = os.path.join(root_real, *parts)
    if not os.path.lexists(full):
        raise InvalidInput(FIELD, f"'{rel}' does not exist")
    real = os.path.realpath(full)
    if not _inside(real, root_real) or real == root_real:
        raise InvalidInput(FIELD, f"'{rel}' leaves the server root")
    forbidden = _forbidden(forbidden)
    if forbidden.holds(real) or forbidden.is_inside(real):
        raise InvalidInput(FIELD, f"'{rel}' is or holds {STORE}, which is never shared")
    return Path(real)


def collect(root: str, target: Path, include_hidden: bool = False, forbidden=()) -> list[SourceFile]:
    """The regular files of ``target`` (a file or a folder), sorted, with dataset-relative paths.

    Links are followed while they stay inside the root, but never into ``forbidden``.
    """
    root_real = os.path.realpath(root)
    forbidden = _forbidden(forbidden)
    if not target.is_dir():
        if target.is_file():
            return [_checked_file(root_real, str(target), target.name, forbidden)]
        raise InvalidInput(FIELD, "is neither a regular file nor a folder")
    found: list[SourceFile] = []
    seen_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(target, followlinks=True):
        real_dir = os.path.realpath(dirpath)
        rel_dir = os.path.relpath(dirpath, target).replace(os.sep, "/")
        if not _inside(real_dir, root_real):
            raise InvalidInput(FIELD, f"folder '{rel_dir}' is a link that leaves the server root")
        if forbidden.holds(real_dir) or _is_forbidden_dir(real_dir, forbidden):
            raise InvalidInput(FIELD, f"folder '{rel_dir}' leads into {STORE}, which is never shared")
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
            found.append(_checked_file(root_real, full, rel, forbidden))
    if not found:
        raise InvalidInput(FIELD, "is an empty folder: there is nothing to share")
    return sorted(found, key=lambda f: f.relpath)


def _is_forbidden_dir(real_dir: str, forbidden: Forbidden) -> bool:
    try:
        return forbidden.is_one(os.stat(real_dir))  # the store's folder mounted elsewhere
    except OSError:
        return False


def _checked_file(root_real: str, full: str, rel: str, forbidden: Forbidden) -> SourceFile:
    """One file to share: inside the root, not part of the store, regular; its identity noted."""
    real = os.path.realpath(full)
    if not _inside(real, root_real):
        raise InvalidInput(FIELD, f"'{rel}' is a link that leaves the server root")
    if forbidden.holds(real):
        raise InvalidInput(FIELD, f"'{rel}' leads into {STORE}, which is never shared")
    try:
        fd = open_beneath(root_real, real)
    except FileNotFoundError:
        what = "is a broken link" if os.path.islink(full) else "vanished while the folder was listed"
        raise InvalidInput(FIELD, f"'{rel}' {what}") from None
    except Changed as exc:
        raise InvalidInput(FIELD, f"'{rel}' {exc.reason}") from None
    except OSError as exc:
        raise InvalidInput(FIELD, f"'{rel}' cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if forbidden.is_one(st):  # a hard link: another name for a file of the store
        raise InvalidInput(FIELD, f"'{rel}' is a file of {STORE}, which is never shared")
    return SourceFile(rel, real, root_real, (st.st_dev, st.st_ino), st.st_size)


def open_beneath(root_real: str, real: str) -> int:
    """Open ``real``, a resolved path inside ``root_real``, for reading; returns the descriptor.

    Each folder on the way is opened relative to the one before with O_NOFOLLOW, starting from
    the root, so a folder swapped for a link since ``real`` was resolved fails here instead of
    leading elsewhere. Only a regular file is opened (a FIFO or a device never is).
    """
    rel = os.path.relpath(real, root_real)
    parts = rel.split(os.sep)
    if rel in (os.curdir, os.pardir) or parts[0] == os.pardir:
        raise Changed("is no longer inside the server root")
    if not _BENEATH:
        return _open_last(real, None)
    dir_fd = os.open(root_real, _FLAGS | _DIRECTORY)
    try:
        for i, name in enumerate(parts[:-1]):
            try:
                next_fd = os.open(name, _FLAGS | _DIRECTORY | _NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                raise _why(exc, name, dir_fd, "/".join(parts[: i + 1])) from None
            os.close(dir_fd)
            dir_fd = next_fd
        return _open_last(parts[-1], dir_fd)
    finally:
        os.close(dir_fd)


def _open_last(name: str, dir_fd: int | None) -> int:
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        raise Changed("is now a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        raise Changed("is not a regular file")
    # O_NONBLOCK: if a FIFO is swapped in between the two calls, opening it must not hang.
    fd = os.open(name, _FLAGS | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Changed("is not a regular file")
    return fd


def _why(exc: OSError, name: str, dir_fd: int, shown: str) -> OSError:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return exc  # gone: the caller's FileNotFoundError
    if stat.S_ISLNK(st.st_mode):
        return Changed(f"its folder '{shown}' is now a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        return Changed(f"its folder '{shown}' is no longer a folder")
    return exc


def open_checked(f: SourceFile) -> int:
    """Open a file listed by ``collect`` for freezing, only if it is still the file that was checked."""
    fd = open_beneath(f.root, f.abspath) if f.root else _open_last(f.abspath, None)
    if f.identity is not None:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != f.identity:
            os.close(fd)
            raise Changed("was replaced by another file since it was checked")
    return fd
