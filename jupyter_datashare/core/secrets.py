"""Capability secrets: 256 random bits behind a type prefix, stored only as a SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _random

# One prefix per kind of capability, so a leaked secret says what it opens (and can be scanned for).
REVIEW = "dsr_"
STATUS = "dss_"  # a requester's status page
GRANT = "dsg_"  # downloads under an approved request
COMMITTEE = "dsc_"  # an external committee member's page
API = "dsa_"  # a personal API token of the standalone service (api_tokens.py)
PREFIXES = (REVIEW, STATUS, GRANT, COMMITTEE, API)
PATTERN = re.compile(r"ds[a-z]_[A-Za-z0-9_-]{43}")


def new_secret(prefix: str) -> str:
    return prefix + _random.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def well_formed(secret: str, prefix: str) -> bool:
    return isinstance(secret, str) and secret.startswith(prefix) and PATTERN.fullmatch(secret) is not None


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def new_id(prefix: str, nbytes: int = 9) -> str:
    """Public identifiers (datasets, links): random, so they reveal nothing about order or count."""
    return prefix + _random.token_urlsafe(nbytes).replace("-", "x").replace("_", "y")


def _encoded(chars: str, any_case: bool = False) -> str:
    """A regex for one of ``chars`` as written, or percent-encoded any number of times (``%5F``,
    ``%255F``, ...): tornado decodes path arguments, so ``dsr%5F...`` opens the same link."""
    if any_case:
        chars = "".join(sorted(set(chars.lower() + chars.upper())))
    hexes = "|".join(f"{ord(c):02x}" for c in chars)
    literal = "[" + re.escape(chars) + "]"
    return f"(?:{literal}|%(?:25)*(?i:{hexes}))"


_BODY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
# Anything that starts like one of our secrets, whole or cut short (a secret one character short
# would otherwise be logged whole, leaving a few guesses to the live one), in any case or encoding.
_LOOKALIKE = re.compile(
    _encoded("d", True) + _encoded("s", True) + _encoded("".join({p[2] for p in PREFIXES}), True) + _encoded("_")
    + f"(?:{_encoded(_BODY_CHARS)})+"
)  # fmt: skip


def redact(text: str) -> str:
    """Replace anything shaped like one of our secrets, from its prefix on: for log lines and error pages."""
    return _LOOKALIKE.sub(lambda m: _prefix(m.group(0)) + "[redacted]", text)


def _prefix(found: str) -> str:
    """The kind of secret (``dsr_``) stays readable in logs: it says which route was used."""
    decoded, before = found, None
    while "%" in decoded[:12] and decoded != before:
        before, decoded = decoded, re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), decoded, count=1)
    return decoded[:4].lower()
