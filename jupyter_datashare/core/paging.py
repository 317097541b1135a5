"""Keyset pages of a list: newest first by (a time, an id), and an opaque cursor to the next page.

A cursor is the sort key of the last row served (urlsafe base64 of a little JSON), so the next
page starts strictly after it: rows inserted between two pages never repeat or push an existing
row past the cut (what an offset would do), and a page costs one index range scan wherever it
starts. Every list of the API uses it: ``{<items>: [...], "next": cursor or null}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import literal, tuple_

from .errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CURSOR = "cursor"  # the query parameter, named in errors
LIMIT = "limit"


@dataclass(frozen=True)
class Page:
    """Where a page starts (``after``: the last row's (time, id), None for the first) and its size."""

    limit: int = DEFAULT_LIMIT
    after: tuple[datetime, str] | None = None


def parse_limit(raw, default: int = DEFAULT_LIMIT) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise InvalidInput(LIMIT, "must be a whole number")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(LIMIT, "must be a whole number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(LIMIT, f"must be between 1 and {MAX_LIMIT}")
    return value


def encode(at: datetime, row_id: str) -> str:
    raw = json.dumps([at.astimezone(timezone.utc).isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor) -> tuple[datetime, str] | None:
    if cursor is None or cursor == "":
        return None
    bad = InvalidInput(CURSOR, "is not a cursor this list gave out (use the 'next' value of the page before)")
    if not isinstance(cursor, str) or len(cursor) > 400:
        raise bad
    try:
        at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(row_id, str) or when.tzinfo is None:
        raise bad
    return when, row_id


def page(limit=None, cursor=None) -> Page:
    """A page from the query's raw ``limit`` and ``cursor`` (a bad one raises InvalidInput naming it)."""
    return Page(parse_limit(limit), decode(cursor))


def newest_first(query, at_column, id_column, p: Page):
    """``query`` ordered newest first, starting after ``p.after``, one row more than the page
    (to know whether another page follows)."""
    if p.after is not None:
        at, row_id = p.after
        # A row value: SQLite (3.15+) and PostgreSQL seek the index to it (the same written out
        # with OR makes SQLite walk every row before it).
        query = query.where(tuple_(at_column, id_column) < tuple_(literal(at, at_column.type), literal(row_id, id_column.type)))
    return query.order_by(at_column.desc(), id_column.desc()).limit(p.limit + 1)


def cut(rows: list, p: Page, key) -> tuple[list, str | None]:
    """The page's rows and the cursor to the next page (None on the last); ``key(row)`` is its (time, id)."""
    if len(rows) <= p.limit:
        return rows, None
    rows = rows[: p.limit]
    return rows, encode(*key(rows[-1]))


def everything(fetch, limit: int = MAX_LIMIT):
    """Every item, page after page: ``fetch(Page)`` answers (items, next cursor)."""
    cursor = None
    while True:
        items, cursor = fetch(Page(limit, decode(cursor)))
        yield from items
        if cursor is None:
            return
