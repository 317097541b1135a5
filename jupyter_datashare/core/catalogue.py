"""An owner's datasets, a page at a time (``GET api/datasets``): newest first, filtered by level,
searched by title, withdrawn ones only when asked.

One query per page, of plain columns (the dataset's and its latest version's counts), never the
object graph: at 100,000 datasets the first page costs what it costs at 10 (bench/bench_lists.py).
"""

from __future__ import annotations

from sqlalchemy import and_, select

from . import bounds, paging, policy
from .db import reading
from .errors import InvalidInput
from .models import Dataset, DatasetVersion

# What a list row shows (core/views.summary), and nothing that needs another query.
_ROW = (
    select(Dataset.id, Dataset.title, Dataset.access_level, Dataset.embargo_until, Dataset.after_embargo,
           Dataset.embargo_lift_recorded, Dataset.latest_version, Dataset.created_at, Dataset.withdrawn_at,
           DatasetVersion.file_count, DatasetVersion.total_size)
    .outerjoin(DatasetVersion, and_(DatasetVersion.dataset_id == Dataset.id,
                                    DatasetVersion.number == Dataset.latest_version))
)  # fmt: skip


def filters(level=None, q=None) -> dict:
    """The list's filters from the query; a bad one raises InvalidInput naming it."""
    if level not in (None, "") and level not in policy.LEVELS:
        raise InvalidInput("level", f"must be one of {', '.join(policy.LEVELS)}")
    if q is not None and not isinstance(q, str):
        raise InvalidInput("q", "must be text")
    bounds.text("q", q, bounds.TITLE)
    return {"level": level or None, "q": (q or "").strip() or None}


def page_owned(ctx, owner: str, p: paging.Page = paging.Page(), *, include_withdrawn: bool = False,
               level: str | None = None, q: str | None = None) -> tuple[list, str | None]:  # fmt: skip
    """One page of ``owner``'s datasets (rows with the columns views.summary reads) and the
    cursor to the next page. ``level``: the level set on the dataset; ``q``: words of the title
    (case-insensitive, anywhere in it)."""
    from .datasets import record_embargo_lift

    query = _ROW.where(Dataset.owner == owner)
    if not include_withdrawn:
        query = query.where(Dataset.withdrawn_at.is_(None))
    if level:
        query = query.where(Dataset.access_level == level)
    if q:
        query = query.where(Dataset.title.icontains(q, autoescape=True))
    with reading(ctx.engine) as s:
        rows = list(s.execute(paging.newest_first(query, Dataset.created_at, Dataset.id, p)))
    rows, after = paging.cut(rows, p, lambda r: (r.created_at, r.id))
    now = ctx.now()
    for r in rows:
        if policy.embargo_just_lifted(r, now):  # rare: one write per dataset, once ever
            record_embargo_lift(ctx, r)
    return rows, after


def all_owned(ctx, owner: str, **filters) -> list:
    """Every page of ``page_owned`` (the CLI, the notebook and the service's inbox list them all)."""
    return list(paging.everything(lambda p: page_owned(ctx, owner, p, **filters)))
