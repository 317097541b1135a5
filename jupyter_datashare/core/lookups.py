"""Looking up a capability secret with the same work whatever comes of it.

Unknown, malformed, expired and revoked secrets must not be told apart by timing: each one is
hashed, sought with one query and compared in constant time (against a digest that matches
nothing when there is no row), and the caller then takes one failure path for all of them.
"""

from __future__ import annotations

import hmac
from typing import Callable, TypeVar

from . import secrets

T = TypeVar("T")
_NO_ROW = "0" * 64  # no SHA-256 hex digest of a secret is expected to be this


def lookup(secret, prefix: str, find: Callable[[str], tuple[T | None, str | None]]) -> T | None:
    """``find(digest)`` runs the one query and returns (what it found, its stored digest) or
    (None, None); this returns what was found if ``secret`` is well formed and matches it."""
    text = secret if isinstance(secret, str) else ""
    digest = secrets.digest(text)
    found, stored = find(digest)
    same = hmac.compare_digest(digest, stored if found is not None and stored else _NO_ROW)
    return found if same and secrets.well_formed(text, prefix) else None
