"""An owner's datasets a page at a time: keyset cursors, filters, search, a fixed cost per page."""

import base64
from datetime import timedelta

import pytest
from sqlalchemy import event

from jupyter_datashare.core import catalogue, datasets, paging, views
from jupyter_datashare.core.db import writing
from jupyter_datashare.core.errors import InvalidInput
from jupyter_datashare.core.models import Dataset, DatasetVersion
from tests.conftest import ON_POSTGRES

OWNER = "ada-owner"


def add_rows(core, n, *, owner=OWNER, start=0, level="open", title="Survey {i}", withdrawn=False, same_time=False):
    """``n`` dataset rows (with a first version) straight into the database: a big catalogue fast."""
    base = core.now()
    with writing(core.engine) as s:
        for i in range(start, start + n):
            at = base if same_time else base + timedelta(seconds=i)
            s.add(Dataset(id=f"ds-{owner[:3]}-{i:06d}", owner=owner, source_path=f"d{i}", title=title.format(i=i),
                          license_id="CC-BY-4.0", access_level=level, created_at=at, updated_at=at,
                          withdrawn_at=at if withdrawn else None, latest_version=1))  # fmt: skip
        s.flush()
        s.add_all(DatasetVersion(dataset_id=f"ds-{owner[:3]}-{i:06d}", number=1, created_at=base, file_count=i % 7,
                                 total_size=i * 10) for i in range(start, start + n))  # fmt: skip
    return [f"ds-{owner[:3]}-{i:06d}" for i in range(start, start + n)]


def pages(core, limit, between=None, **filters):
    """Every page in turn, ``between(n)`` called after the n-th page; the ids in the order served."""
    seen, cursor, n = [], None, 0
    while True:
        rows, cursor = catalogue.page_owned(core, OWNER, paging.page(limit, cursor), **filters)
        assert len(rows) <= limit
        seen += [r.id for r in rows]
        n += 1
        if cursor is None:
            return seen
        if between:
            between(n)


def test_pages_serve_every_dataset_once_newest_first_while_others_are_shared(core, clock):
    old = add_rows(core, 23)
    clock.advance(seconds=3600)
    later = iter(range(100, 200))

    def share_more(_page):
        clock.advance(seconds=1)
        add_rows(core, 2, start=next(later) * 2)  # newer than every page already served

    seen = pages(core, 5, between=share_more)
    assert seen[: len(old)] == old[::-1]  # newest first; the rows shared meanwhile come before page one
    assert sorted(seen) == sorted(set(seen))  # none twice
    assert set(old) <= set(seen)


def test_rows_of_the_same_instant_are_split_across_pages_by_id_without_repeats(core, clock):
    ids = add_rows(core, 12, same_time=True)

    def same_instant(page):  # shared at the very instant of the rows being paged
        add_rows(core, 1, start=500 + page, same_time=True)

    seen = pages(core, 5, between=same_instant)
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)
    assert [i for i in seen if i in ids] == sorted(ids, reverse=True)


def test_filters_and_search_hold_on_every_page(core):
    add_rows(core, 9, title="Soil cores {i}")
    add_rows(core, 9, start=100, title="SOIL moisture {i}", level="restricted")
    add_rows(core, 9, start=200, title="Rainfall {i}", level="restricted")
    restricted_soil = pages(core, 2, level="restricted", q="soil")
    assert restricted_soil == [f"ds-ada-{i:06d}" for i in range(108, 99, -1)]  # case-insensitive, one level only
    assert len(pages(core, 4, q="soil")) == 18
    assert pages(core, 4, q="100%") == []  # LIKE wildcards are searched for as they are
    assert len(pages(core, 4, level="restricted")) == 18


def test_withdrawn_datasets_only_when_asked_and_other_owners_never(core):
    mine = add_rows(core, 4)
    gone = add_rows(core, 3, start=50, withdrawn=True)
    add_rows(core, 6, owner="bob", start=0)
    assert sorted(pages(core, 2)) == mine
    assert sorted(pages(core, 2, include_withdrawn=True)) == sorted(mine + gone)
    assert all(i.startswith("ds-ada") for i in pages(core, 3, include_withdrawn=True, q="Survey"))


def test_the_list_row_shows_the_latest_versions_counts(core, server_root, clock):
    (server_root / "study").mkdir()
    (server_root / "study" / "a.csv").write_text("x\n1\n")
    ds_id = datasets.share(core, OWNER, {"path": "study", "title": "Study"})
    (server_root / "study" / "b.csv").write_text("y\n2\n")
    datasets.new_version(core, OWNER, ds_id)
    (row,), _ = catalogue.page_owned(core, OWNER)
    out = views.summary(row, core.now())
    assert (out["id"], out["version"], out["file_count"], out["withdrawn"]) == (ds_id, 2, 2, False)
    assert out["total_size"] == 8 and out["access"]["level"] == "open"


def test_a_page_costs_the_same_queries_whatever_its_size(core):
    add_rows(core, 300)
    statements = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    catalogue.page_owned(core, OWNER, paging.Page(5))
    small = len(statements)
    statements.clear()
    rows, cursor = catalogue.page_owned(core, OWNER, paging.Page(250))
    assert len(rows) == 250 and cursor
    assert len(statements) == small  # no query per dataset


def test_an_embargo_seen_over_in_a_list_is_recorded_once(core, clock):
    add_rows(core, 1, level="embargoed")
    with writing(core.engine) as s:
        ds = s.get(Dataset, "ds-ada-000000")
        ds.embargo_until, ds.after_embargo = core.now() + timedelta(days=1), "open"
    clock.advance(days=2)
    for _ in range(2):
        (row,), _ = catalogue.page_owned(core, OWNER)
        assert views.summary(row, core.now())["access"]["level_in_force"] == "open"
    assert [e["action"] for e in core.audit.events()] == ["embargo.lifted"]


@pytest.mark.parametrize("raw", ["0", "1001", "ten", "-3", "2.5"])
def test_a_bad_limit_names_the_field(raw):
    with pytest.raises(InvalidInput) as err:
        paging.page(raw, None)
    assert err.value.field == "limit"


NAIVE = base64.urlsafe_b64encode(b'["2026-01-01T00:00:00","ds-1"]').decode()  # a time without its zone


@pytest.mark.parametrize("raw", ["nope", "!!!", "WzEsMl0", NAIVE, "x" * 500])
def test_a_bad_cursor_names_the_field(raw):
    with pytest.raises(InvalidInput) as err:
        paging.page(None, raw)
    assert err.value.field == "cursor"


def test_bad_filters_name_the_field():
    with pytest.raises(InvalidInput) as err:
        catalogue.filters(level="secret")
    assert err.value.field == "level"
    with pytest.raises(InvalidInput) as err:
        catalogue.filters(q="x" * 501)
    assert err.value.field == "q"


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's query plan")
def test_first_and_later_pages_seek_the_owners_index(core):
    add_rows(core, 50)
    _, cursor = catalogue.page_owned(core, OWNER, paging.Page(10))
    query = catalogue._ROW.where(Dataset.owner == OWNER, Dataset.withdrawn_at.is_(None))
    for p in (paging.Page(10), paging.page(10, cursor)):
        stmt = paging.newest_first(query, Dataset.created_at, Dataset.id, p)
        with core.engine.connect() as conn:
            compiled = stmt.compile(dialect=conn.dialect)
            params = tuple(compiled.params[k] for k in compiled.positiontup)
            plan = " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params))
        assert "USING INDEX ix_datasets_owner_created" in plan and "TEMP B-TREE" not in plan, plan
        if p.after:
            assert "(created_at,id)<(?,?)" in plan, plan  # a seek, not a walk from the newest row
