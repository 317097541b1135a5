"""Grants: time-limited access for an approved request, used through ``g/{secret}`` links.

The grant's secret is derived from the requester's status secret (HMAC), so the status page —
which only the requester can open — can always show the download links, while the server
keeps nothing but hashes of both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import bounds, lookups, paging, policy, secrets
from .audit import Event
from .db import reading
from .errors import InvalidInput, NotFound
from .models import AccessRequest, Dataset, Grant

NOT_FOUND = "not found"


def derive_secret(status_secret: str) -> str:
    mac = hmac.new(status_secret.encode(), b"jupyter-datashare grant", hashlib.sha256).digest()
    return secrets.GRANT + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(ctx, session, request: AccessRequest, now) -> Grant:
    """Called inside the decision's transaction when the quorum is reached."""
    grant = Grant(
        id=secrets.new_id("gr-"), request_id=request.id, dataset_id=request.dataset_id,
        secret_hash=request.grant_secret_hash, issued_at=now,
        expires_at=now + timedelta(days=request.requested_days), use_count=0,
    )  # fmt: skip
    session.add(grant)
    session.flush()
    ctx.audit.append(session, Event("grant.issued", "committee", dataset_id=request.dataset_id, grant_id=grant.id,
                                    details={"request": request.id, "expires_at": grant.expires_at.isoformat()}))  # fmt: skip
    return grant


def state(grant: Grant, now) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.expires_at <= now:
        return "expired"
    return "active"


def view(grant: Grant, now) -> dict:
    return {
        "id": grant.id, "state": state(grant, now), "issued_at": grant.issued_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(), "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "revoke_reason": grant.revoke_reason, "use_count": grant.use_count,
        "last_used_at": grant.last_used_at.isoformat() if grant.last_used_at else None,
        "renewal_requested_at": grant.renewal_requested_at.isoformat() if grant.renewal_requested_at else None,
    }  # fmt: skip


def _record_expiry(ctx, grant: Grant, now) -> None:
    if grant.revoked_at is None and grant.expires_at <= now and not grant.expiry_recorded:
        with ctx.audit.transaction() as s:
            live = s.get(Grant, grant.id)
            if live.expiry_recorded:
                return
            live.expiry_recorded = True
            ctx.audit.append(s, Event("grant.expired", "system", dataset_id=grant.dataset_id, grant_id=grant.id))


def resolve(ctx, secret: str, client: str) -> tuple[Grant, Dataset]:
    """The live grant for ``secret`` and its dataset, or the same NotFound for anything else.

    Unknown, expired and revoked grants take one path: one narrow query (plain columns, no
    objects built), one constant-time compare, one failure counted, one event. Only a live
    grant is then loaded whole.
    """
    ctx.limiter.check_client(client)
    now = ctx.now()
    found = lookups.lookup(secret, secrets.GRANT, lambda digest: _state(ctx, digest))
    if found is None:
        why = "unknown secret"
    else:
        why = state(found, now) if state(found, now) != "active" else ("dataset withdrawn" if found.withdrawn_at else None)
    if why:
        if found is not None:
            _record_expiry(ctx, found, now)  # once per grant: its state change, not this look-up's
        ctx.limiter.failure(client)  # 429 once everyone together failed too often: never a valid grant
        if found is None:
            event = Event("grant.lookup_failed", "public", outcome="denied", client=client, reason=why)
        else:
            event = Event("grant.rejected", f"grant:{found.id}", outcome="denied", dataset_id=found.dataset_id,
                          grant_id=found.id, client=client, reason=why)  # fmt: skip
        ctx.audit.record(event)
        raise NotFound(NOT_FOUND)
    return _load(ctx, found.id)


_STATE = select(Grant.id, Grant.secret_hash, Grant.dataset_id, Grant.revoked_at, Grant.expires_at,
                Grant.expiry_recorded, Dataset.withdrawn_at).join(Dataset, Dataset.id == Grant.dataset_id)  # fmt: skip


def _state(ctx, digest: str):
    """What decides whether the grant with this digest is live: plain columns, one query."""
    with reading(ctx.engine) as s:
        found = s.execute(_STATE.where(Grant.secret_hash == digest)).first()
    return (found, found.secret_hash) if found else (None, None)


def _load(ctx, grant_id: str) -> tuple[Grant, Dataset]:
    """A live grant and its dataset (versions loaded), in one query."""
    q = select(Grant, Dataset).join(Dataset, Dataset.id == Grant.dataset_id).options(joinedload(Dataset.versions))
    with reading(ctx.engine) as s:
        row = s.execute(q.where(Grant.id == grant_id)).unique().one()
    return row[0], row[1]


def principal(grant: Grant) -> policy.Principal:
    return policy.Principal("grant", f"grant:{grant.id}", grant)


def revoke(ctx, grant_id: str, actor: str, reason, *, client: str | None = None) -> Grant:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "revoking a grant needs a reason")
    bounds.text("reason", reason, bounds.REASON)
    with ctx.audit.transaction() as s:
        grant = s.get(Grant, grant_id) if isinstance(grant_id, str) else None
        if grant is None:
            raise NotFound(f"no grant '{grant_id}'")
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_by, grant.revoke_reason = ctx.now(), actor, reason.strip()
            ctx.audit.append(s, Event("grant.revoked", actor, dataset_id=grant.dataset_id, grant_id=grant.id,
                                      client=client, reason=reason.strip()))  # fmt: skip
        return grant


def request_renewal(ctx, request: AccessRequest, *, client: str | None = None) -> Grant:
    with ctx.audit.transaction() as s:
        grant = s.scalar(select(Grant).where(Grant.request_id == request.id))
        if grant is None or grant.revoked_at is not None:
            raise InvalidInput("renewal", "there is no grant to renew")
        if grant.renewal_requested_at is None:
            grant.renewal_requested_at = ctx.now()
            ctx.audit.append(s, Event("grant.renewal_requested", "requester", dataset_id=grant.dataset_id,
                                      grant_id=grant.id, client=client, details={"request": request.id}))  # fmt: skip
        return grant


def page_for_dataset(ctx, dataset_id: str, p: paging.Page = paging.Page()) -> tuple[list[dict], str | None]:
    """One page of a dataset's grants, newest first, and the cursor to the next page."""
    query = paging.newest_first(select(Grant).where(Grant.dataset_id == dataset_id), Grant.issued_at, Grant.id, p)
    with reading(ctx.engine) as s:
        rows, after = paging.cut(list(s.scalars(query)), p, lambda g: (g.issued_at, g.id))
    now = ctx.now()
    return [view(g, now) | {"request_id": g.request_id} for g in rows], after


def for_dataset(ctx, dataset_id: str) -> list[dict]:
    """Every grant of the dataset, newest first."""
    return list(paging.everything(lambda p: page_for_dataset(ctx, dataset_id, p)))
