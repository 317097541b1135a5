"""The access requests a reader may read, a page at a time (``GET api/requests``, the inboxes).

A reader's scope is a set of datasets: those whose committee they sit on (themselves or through a
hub group), those they own, or one external member's. Two ways to find the newest requests in it,
each fast where the other is slow, so the scope's size picks one:

- a narrow scope (a member of a few committees): the requests of each of its datasets, gathered
  through the dataset's index and sorted; this reads only those datasets' requests;
- a wide one (an owner of thousands of datasets): the requests newest first through the
  submission-time index, each checked against the scope, stopping at a full page; this reads
  about a page's worth however many datasets and requests there are.
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select

from . import committee, paging
from .db import reading
from .models import AccessRequest, CommitteeMember, Dataset
from .requests import Reader, seats_of, views_of

WIDE = 50  # datasets in a scope past which the newest-first walk is the cheaper way


def _scope(username, owner, member, groups) -> list[tuple]:
    """Per part of the scope: (its datasets' ids as a query, its test on one request row)."""
    parts = []
    if username:
        seats = seats_of(username, groups)
        sits = (CommitteeMember.username.in_(seats), CommitteeMember.removed_at.is_(None))
        parts.append((select(CommitteeMember.dataset_id).where(*sits),
                      exists().where(CommitteeMember.dataset_id == AccessRequest.dataset_id, *sits)))  # fmt: skip
    if owner:
        parts.append((select(Dataset.id).where(Dataset.owner == owner),
                      exists().where(Dataset.id == AccessRequest.dataset_id, Dataset.owner == owner)))  # fmt: skip
    if member is not None:
        parts.append((select(CommitteeMember.dataset_id).where(CommitteeMember.id == member.id),
                      AccessRequest.dataset_id == member.dataset_id))  # fmt: skip
    return parts


def _is_wide(session, parts) -> bool:
    counted = sum(session.scalar(select(func.count()).select_from(ids.limit(WIDE + 1).subquery())) for ids, _ in parts)
    return counted > WIDE


def page_visible(ctx, p: paging.Page = paging.Page(), *, username: str | None = None, owner: str | None = None,
                 member: CommitteeMember | None = None, status: str | None = None, dataset_id: str | None = None,
                 groups=()) -> tuple[list[dict], str | None]:  # fmt: skip
    """One page of the requests a committee member (or the datasets' owner) may read, newest
    first, and the cursor to the next page; ``status`` and ``dataset_id`` narrow it."""
    parts = _scope(username, owner, member, groups)
    if not parts:
        return [], None
    reader = Reader(username, member.id if member is not None else None, committee.acting_owners(ctx.settings),
                    frozenset(groups))  # fmt: skip
    with reading(ctx.engine) as s:
        # One dataset asked for: its own index finds its requests, each checked against the scope.
        if dataset_id or _is_wide(s, parts):
            q = select(AccessRequest).where(or_(*(test for _, test in parts)))
        else:
            q = select(AccessRequest).where(or_(*(AccessRequest.dataset_id.in_(ids) for ids, _ in parts)))
        if status:
            q = q.where(AccessRequest.status == status)
        if dataset_id:
            q = q.where(AccessRequest.dataset_id == dataset_id)
        rows = list(s.scalars(paging.newest_first(q, AccessRequest.submitted_at, AccessRequest.id, p)))
        rows, after = paging.cut(rows, p, lambda r: (r.submitted_at, r.id))
        return views_of(s, rows, ctx.now(), reader), after


def visible_requests(ctx, **scope) -> list[dict]:
    """Every request of ``page_visible``'s scope, newest first (the HTML pages list them all)."""
    return list(paging.everything(lambda p: page_visible(ctx, p, **scope)))
