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


def redact(text: str) -> str:
    """Replace anything shaped like one of our secrets: for log lines and error pages."""
    return PATTERN.sub(lambda m: m.group(0)[:4] + "[redacted]", text)
