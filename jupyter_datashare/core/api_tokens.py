"""Personal API tokens of the standalone service: how a CLI, a notebook or a Jupyter server in
client mode proves whose datasets it works on, where there is no JupyterHub to ask.

An administrator issues them (``jupyter datashare serve token create USER``): 256 random bits
behind the ``dsa_`` prefix, shown once, kept only as a SHA-256, revocable, optionally expiring.
A token speaks for its user and nobody else: the owner of what it creates is the token's user,
never a name the caller sends. Issuing and revoking are audited (``token.issued``,
``token.revoked``); every failed look-up counts against the caller's address like a bad link.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from . import bounds, lookups, secrets
from .audit import Event
from .db import reading, writing
from .errors import InvalidInput, NotFound
from .models import ApiToken

MAX_DAYS = 3650
_USERNAME = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*")
# A use moves last_used_at at most this often: a busy client must not write on every call.
USE_RESOLUTION = timedelta(minutes=1)


def _username(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("username", "must be the name of the user the token acts for")
    bounds.text("username", value, 200)
    if value != value.strip() or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidInput("username", "must not contain spaces or control characters")
    if not _USERNAME.fullmatch(value):
        # It names the user's folder on the service too (many_owners): no path in it.
        raise InvalidInput("username", "may hold letters, digits and . _ @ + - only, and not start with a dot")
    return value


def _days(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidInput("days", f"must be a whole number of days from 1 to {MAX_DAYS}")
    return value


def describe(row: ApiToken, now) -> dict:
    if row.revoked_at is not None:
        state = "revoked"
    elif row.expires_at is not None and row.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": row.id, "username": row.username, "label": row.label, "state": state,
        "created_by": row.created_by, "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }  # fmt: skip


def issue(ctx, admin: str, username, *, label="", days=None, client: str | None = None) -> tuple[dict, str]:
    """A new token for ``username``; returns (its description, the secret, shown this once)."""
    username = _username(username)
    if not isinstance(label, str):
        raise InvalidInput("label", "must be text")
    bounds.text("label", label, 200)
    days = _days(days)
    now = ctx.now()
    secret = secrets.new_secret(secrets.API)
    row = ApiToken(id=secrets.new_id("tok-"), username=username, label=label, secret_hash=secrets.digest(secret),
                   created_by=admin, created_at=now, expires_at=now + timedelta(days=days) if days else None)  # fmt: skip
    with writing(ctx.engine) as s:
        s.add(row)
        ctx.audit.append(s, Event("token.issued", admin, client=client, details={"token": row.id, "username": username}))
    return describe(row, now), secret


def listing(ctx, username: str | None = None) -> list[dict]:
    q = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
    if username is not None:
        q = q.where(ApiToken.username == username)
    now = ctx.now()
    with reading(ctx.engine) as s:
        return [describe(row, now) for row in s.scalars(q)]


def revoke(ctx, admin: str, token_id, *, client: str | None = None) -> dict:
    now = ctx.now()
    with writing(ctx.engine) as s:
        row = s.get(ApiToken, token_id) if isinstance(token_id, str) else None
        if row is None:
            raise NotFound(f"no API token '{token_id}'")
        if row.revoked_at is None:
            row.revoked_at = now
            ctx.audit.append(s, Event("token.revoked", admin, client=client, details={"token": row.id, "username": row.username}))
        return describe(row, now)


_STATE = select(ApiToken.id, ApiToken.secret_hash, ApiToken.username, ApiToken.revoked_at, ApiToken.expires_at,
                ApiToken.last_used_at)  # fmt: skip


def authenticate(ctx, secret, client: str) -> str | None:
    """The user a live token speaks for, or None (unknown, malformed, revoked and expired tokens
    alike, with the same work). A failure counts against ``client``; too many raise RateLimited."""
    ctx.limiter.check_client(client)

    def find(digest):
        with reading(ctx.engine) as s:
            found = s.execute(_STATE.where(ApiToken.secret_hash == digest)).one_or_none()
        return found, found.secret_hash if found is not None else None

    found = lookups.lookup(secret, secrets.API, find)
    now = ctx.now()
    if found is None or found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= now):
        ctx.limiter.failure(client)
        return None
    if found.last_used_at is None or now - found.last_used_at >= USE_RESOLUTION:
        with writing(ctx.engine) as s:
            s.execute(update(ApiToken).where(ApiToken.id == found.id).values(last_used_at=now))
    return found.username
