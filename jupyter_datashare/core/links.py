"""Private review links: capability URLs bound to one dataset version.

The secret is shown once, when the link is made; only its SHA-256 is kept. Unknown, expired,
revoked and withdrawn links all fail the same way, and every failure counts against the
caller's address.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import bounds, lookups, paging, policy, secrets
from .audit import Event
from .db import reader, reading, writing
from .errors import InvalidInput, NotFound
from .models import Dataset, DatasetVersion, ReviewLink
from .datasets import owned, reject_unknown, _bool

LINK_FIELDS = {"label", "expires_in_days", "anonymous", "allow_restricted", "version"}
NOT_FOUND = "not found"


def _days(ctx, value) -> int:
    s = ctx.settings
    if value is None:
        return s.default_link_days
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InvalidInput("expires_in_days", "must be a whole number of days")
    value = int(value)
    if value <= 0:
        raise InvalidInput("expires_in_days", "must be at least 1")
    if value > s.max_link_days:
        raise InvalidInput("expires_in_days", f"must be at most {s.max_link_days} days")
    return value


def create(ctx, owner: str, dataset_id: str, body: dict, *, client: str | None = None) -> tuple[dict, str]:
    """Make a link; returns (its description, the secret). The secret is not kept anywhere."""
    reject_unknown(body, LINK_FIELDS, "a review link")
    label = body.get("label") or ""
    if not isinstance(label, str) or len(label) > 200:
        raise InvalidInput("label", "must be a string of at most 200 characters")
    bounds.text("label", label, 200)  # no NUL
    days = _days(ctx, body.get("expires_in_days"))
    anonymous = _bool(body, "anonymous")
    allow_restricted = _bool(body, "allow_restricted")
    now = ctx.now()
    secret = secrets.new_secret(secrets.REVIEW)
    with writing(ctx.engine) as s:
        ds = owned(s, owner, dataset_id)
        if ds.withdrawn_at is not None:
            raise InvalidInput("id", "the dataset was withdrawn")
        number = body.get("version", ds.latest_version)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= ds.latest_version:
            raise InvalidInput("version", f"must be a version of this dataset (1 to {ds.latest_version})")
        if policy.level_in_force(ds, now) == policy.RESTRICTED and not allow_restricted:
            raise InvalidInput(
                "allow_restricted",
                "this dataset is restricted: set allow_restricted to let this link open its files",
            )
        row = ReviewLink(
            id=secrets.new_id("lnk-"),
            dataset_id=ds.id,
            version_number=number,
            label=label.strip(),
            secret_hash=secrets.digest(secret),
            anonymous=anonymous,
            allow_restricted=allow_restricted,
            created_by=owner,
            created_at=now,
            expires_at=now + timedelta(days=days),
            use_count=0,
        )
        s.add(row)
        s.flush()
        ctx.audit.append(s, Event("link.created", owner, dataset_id=ds.id, version=number, link_id=row.id, client=client,
                                  details={"expires_at": row.expires_at.isoformat(), "anonymous": anonymous}))  # fmt: skip
        return row, secret


def page_for(ctx, owner: str, dataset_id: str, p: paging.Page = paging.Page()) -> tuple[list[ReviewLink], str | None]:
    """One page of a dataset's review links, newest first, and the cursor to the next page."""
    with reading(ctx.engine) as s:
        owned(s, owner, dataset_id)
        query = paging.newest_first(select(ReviewLink).where(ReviewLink.dataset_id == dataset_id),
                                    ReviewLink.created_at, ReviewLink.id, p)  # fmt: skip
        rows = list(s.scalars(query))
    return paging.cut(rows, p, lambda r: (r.created_at, r.id))


def list_for(ctx, owner: str, dataset_id: str) -> list[ReviewLink]:
    """Every review link of the dataset, newest first."""
    return list(paging.everything(lambda p: page_for(ctx, owner, dataset_id, p)))


def revoke(ctx, owner: str, link_id: str, *, client: str | None = None) -> ReviewLink:
    now = ctx.now()
    with writing(ctx.engine) as s:
        row = s.get(ReviewLink, link_id) if isinstance(link_id, str) else None
        if row is None or s.get(Dataset, row.dataset_id).owner != owner:  # another's: as if none
            raise NotFound(f"no review link '{link_id}'")
        if row.revoked_at is None:
            row.revoked_at = now
            ctx.audit.append(s, Event("link.revoked", owner, dataset_id=row.dataset_id, link_id=row.id, client=client))
        return row


def resolve(ctx, secret: str, client: str, *, versions: bool = True) -> tuple[ReviewLink, Dataset, DatasetVersion]:
    """The live link for ``secret`` with its dataset and version, or NotFound (always the same).

    Unknown, expired, revoked and withdrawn links take the same path: one narrow query (a few
    plain columns, no objects built), one constant-time compare, one failure counted, one event,
    so their timing tells nothing apart. Only a live link is then loaded whole.
    """
    ctx.limiter.check_client(client)
    now = ctx.now()
    found = lookups.lookup(secret, secrets.REVIEW, lambda digest: _state(ctx, digest))
    why = None
    if found is None:
        why = "unknown secret"
    elif found.revoked_at is not None:
        why = "revoked"
    elif found.expires_at <= now:
        why = "expired"
    elif found.withdrawn_at is not None:
        why = "dataset withdrawn"
    if why:
        ctx.limiter.failure(client)  # 429 once everyone together failed too often: never a valid link
        if found is None:
            event = Event("link.lookup_failed", "public", outcome="denied", client=client, reason=why)
        else:
            event = Event("link.rejected", f"link:{found.id}", outcome="denied", dataset_id=found.dataset_id,
                          link_id=found.id, client=client, reason=why)  # fmt: skip
        ctx.audit.record(event)
        raise NotFound(NOT_FOUND)
    row, ds, version = _load(ctx, found.id, versions)
    from .datasets import record_embargo_lift

    record_embargo_lift(ctx, ds)
    return row, ds, version


_STATE = (
    select(ReviewLink.id, ReviewLink.secret_hash, ReviewLink.dataset_id, ReviewLink.revoked_at, ReviewLink.expires_at,
           Dataset.withdrawn_at)  # fmt: skip
    .join(Dataset, Dataset.id == ReviewLink.dataset_id)
)


def _state(ctx, digest: str):
    """What decides whether the link with this digest is live: plain columns, one query."""
    with reader(ctx.engine).connect() as conn:  # plain columns: no session needed
        found = conn.execute(_STATE.where(ReviewLink.secret_hash == digest)).first()
    return (found, found.secret_hash) if found else (None, None)


def _load(ctx, link_id: str, versions: bool = True) -> tuple[ReviewLink, Dataset, DatasetVersion]:
    """A live link with its dataset (all its versions loaded, unless ``versions=False``: a
    download needs none) and its version, in one query."""
    q = (
        select(ReviewLink, Dataset, DatasetVersion)
        .join(Dataset, Dataset.id == ReviewLink.dataset_id)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id) & (DatasetVersion.number == ReviewLink.version_number))
        .where(ReviewLink.id == link_id)
    )
    if versions:
        q = q.options(joinedload(Dataset.versions))
    with reading(ctx.engine) as s:
        row = s.execute(q).unique().one()
    return row[0], row[1], row[2]


def principal(row: ReviewLink) -> policy.Principal:
    return policy.Principal("link", f"link:{row.id}", row)


def record_use(ctx, session, row) -> None:
    """Count a use of a capability (review link or grant), inside the transaction that writes
    the use's audit event."""
    live = session.get(type(row), row.id)
    live.use_count += 1
    live.last_used_at = ctx.now()


def view_page(ctx, row: ReviewLink, ds: Dataset, client: str) -> None:
    """Opening the link's landing page is an access of its own: audited and counted."""
    with ctx.audit.transaction() as s:
        ctx.audit.append(s, Event("dataset.viewed", f"link:{row.id}", outcome="allowed", dataset_id=ds.id,
                                  version=row.version_number, link_id=row.id, client=client))  # fmt: skip
        record_use(ctx, s, row)
