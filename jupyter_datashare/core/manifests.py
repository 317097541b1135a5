"""A client's manifest of what it shares (``expected_files``: each file's path and SHA-256), held
against what is really frozen: a file changed, missing or added between the client's upload and
the share is refused before anything is stored (the service's client mode sends one)."""

from __future__ import annotations

import re

from .errors import InvalidInput

FIELD = "expected_files"
MOST = 100_000  # files named in one manifest
_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse(value) -> dict[str, str] | None:
    """path -> SHA-256 of a manifest (None when none was sent), or InvalidInput naming the item."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MOST:
        raise InvalidInput(FIELD, f"must be a list of at most {MOST} files: {{\"path\", \"sha256\"}}")
    out: dict[str, str] = {}
    for i, item in enumerate(value):
        where = f"{FIELD}[{i}]"
        if not isinstance(item, dict) or set(item) != {"path", "sha256"}:
            raise InvalidInput(where, "must be {\"path\", \"sha256\"}")
        path, sha = item["path"], item["sha256"]
        if not isinstance(path, str) or not path or len(path) > 4096 or "\x00" in path:
            raise InvalidInput(f"{where}.path", "must be a file's path in the dataset")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise InvalidInput(f"{where}.sha256", "must be 64 lowercase hex digits")
        if path in out:
            raise InvalidInput(f"{where}.path", f"'{path}' is named twice")
        out[path] = sha
    return out


def check_names(expected: dict[str, str] | None, relpaths: list[str]) -> None:
    """Before freezing: the same files, no more, no fewer."""
    if expected is None:
        return
    found = set(relpaths)
    missing, extra = sorted(set(expected) - found), sorted(found - set(expected))
    if missing:
        raise InvalidInput(FIELD, f"names '{missing[0]}', which the folder does not hold" +
                           (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))  # fmt: skip
    if extra:
        raise InvalidInput(FIELD, f"does not name '{extra[0]}', which the folder holds" +
                           (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))  # fmt: skip


def check_hash(expected: dict[str, str] | None, relpath: str, sha256: str) -> None:
    """While freezing, for each file as its hash is known."""
    if expected is not None and expected[relpath] != sha256:
        raise InvalidInput(FIELD, f"'{relpath}' is not the file the manifest names (its SHA-256 is {sha256}, "
                                  f"not {expected[relpath]}); nothing was stored")  # fmt: skip
