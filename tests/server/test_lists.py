"""The API's lists come in keyset pages: ``{<items>: [...], "next": cursor or null}``, newest first,
``limit`` (1-1000) and ``cursor`` on each; datasets, review links, requests and grants alike."""

import json
from datetime import timedelta

import pytest

from jupyter_datashare.core.db import writing
from jupyter_datashare.core.models import Grant
from tests.conftest import link_for
from tests.core.test_catalogue import add_rows
from tests.core.test_requests import add_requests
from tests.server.test_requests import share_restricted

BOB = {"Authorization": "token bob-token"}


async def every_page(call, *parts, key, limit, between=None, headers=None, **params):
    """All pages of a list in turn (``between(n)`` after the n-th); the ids in the order served."""
    seen, cursor, n = [], None, 0
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        page = await call.json("GET", "datashare", "api", *parts, params=query, headers=headers)
        assert set(page) == {key, "next"} and len(page[key]) <= limit
        seen += [x["id"] for x in page[key]]
        cursor, n = page["next"], n + 1
        if cursor is None:
            return seen
        if between:
            await between(n)


async def test_datasets_come_in_pages_and_a_share_between_pages_moves_nothing(call, share, ctx, clock):
    old = add_rows(ctx, 7)
    clock.advance(hours=1)
    shared = []

    async def share_one(n):
        clock.advance(minutes=1)
        shared.append((await share(path=f"new{n}", files={f"new{n}/a.csv": "x\n1\n"}, title=f"New {n}"))["id"])

    seen = await every_page(call, "datasets", key="datasets", limit=3, between=share_one)
    assert seen == old[::-1]  # each once, newest first; the new shares are newer than page one
    first = await call.json("GET", "datashare", "api", "datasets", params={"limit": "2"})
    assert [d["id"] for d in first["datasets"]] == shared[::-1][:2] and first["next"]
    everything = await call.json("GET", "datashare", "api", "datasets")
    assert everything["next"] is None and len(everything["datasets"]) == 7 + len(shared)  # the default page: 100


async def test_search_level_and_withdrawn_combine_with_the_cursor(call, ctx):
    add_rows(ctx, 5, title="Soil cores {i}")
    soil_restricted = add_rows(ctx, 5, start=10, title="Soil moisture {i}", level="restricted")
    add_rows(ctx, 3, start=20, title="Rain {i}", level="restricted")
    gone = add_rows(ctx, 2, start=30, title="Soil (withdrawn) {i}", level="restricted", withdrawn=True)
    add_rows(ctx, 4, owner="zed", title="Soil of zed {i}", level="restricted")  # another owner's
    found = await every_page(call, "datasets", key="datasets", limit=2, q="SOIL", level="restricted")
    assert found == soil_restricted[::-1]
    found = await every_page(call, "datasets", key="datasets", limit=2, q="soil", level="restricted", withdrawn="1")
    assert found == (soil_restricted + gone)[::-1]
    assert all(i.startswith("ds-ada") for i in await every_page(call, "datasets", key="datasets", limit=50, q="zed"))


LISTS = [("datasets",), ("requests",), ("datasets", "{id}", "links"), ("datasets", "{id}", "grants")]


@pytest.mark.parametrize("parts", LISTS, ids=lambda p: "/".join(p))
@pytest.mark.parametrize("params, field", [({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"),
                                           ({"limit": "ten"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"),
                                           ({"cursor": "WzEsMl0"}, "cursor")])  # fmt: skip
async def test_a_bad_limit_or_cursor_is_a_400_naming_it(call, share, parts, params, field):
    d = await share_restricted(share)
    r = await call("GET", "datashare", "api", *[p.format(id=d["id"]) for p in parts], params=params)
    assert r.code == 400, r.body
    body = json.loads(r.body)
    assert body["field"] == field and body["error"] and body["message"]


@pytest.mark.parametrize("params, field", [({"level": "secret"}, "level"), ({"q": "x" * 501}, "q"),
                                           ({"withdrawn": "maybe"}, "withdrawn")])  # fmt: skip
async def test_a_bad_filter_of_the_datasets_is_a_400_naming_it(call, params, field):
    r = await call("GET", "datashare", "api", "datasets", params=params)
    assert r.code == 400 and json.loads(r.body)["field"] == field


async def test_review_links_come_in_pages_newest_first(call, share, clock):
    d = await share()
    made = []
    for i in range(5):
        clock.advance(seconds=1)
        made.append((await link_for(call, d["id"], label=f"R{i}"))["id"])

    async def one_more(_n):
        clock.advance(seconds=1)
        await link_for(call, d["id"], label="late")

    assert await every_page(call, "datasets", d["id"], "links", key="links", limit=2, between=one_more) == made[::-1]


async def test_requests_come_in_pages_filtered_and_never_anothers(call, share, ctx, clock):
    mine = await share_restricted(share)
    pending = add_requests(ctx, mine["id"], 5)
    approved = add_requests(ctx, mine["id"], 3, start=20, status="approved")
    theirs = add_rows(ctx, 1, owner="zed", level="restricted")[0]
    add_requests(ctx, theirs, 4, start=40)  # zed's dataset: not ada's, and bob sits on no committee of it
    seen = await every_page(call, "requests", key="requests", limit=3)
    assert seen == (pending + approved)[::-1]
    assert await every_page(call, "requests", key="requests", limit=2, status="approved") == approved[::-1]
    assert await every_page(call, "requests", key="requests", limit=2, dataset=theirs) == []
    as_bob = await every_page(call, "requests", key="requests", limit=4, status="pending", dataset=mine["id"],
                              headers=BOB)  # fmt: skip
    assert as_bob == pending[::-1]


async def test_grants_come_in_pages_newest_first(call, share, ctx):
    d = await share_restricted(share)
    ids = add_requests(ctx, d["id"], 5, status="approved")
    now = ctx.now()
    with writing(ctx.engine) as s:
        s.add_all(Grant(id=f"gr-{i}", request_id=r, dataset_id=d["id"], secret_hash=f"h{i}",
                        issued_at=now + timedelta(seconds=i), expires_at=now + timedelta(days=9), use_count=0)
                  for i, r in enumerate(ids))  # fmt: skip
    seen = await every_page(call, "datasets", d["id"], "grants", key="grants", limit=2)
    assert seen == [f"gr-{i}" for i in range(4, -1, -1)]
