"""The audit log over HTTP: the export takes the filters of the event list, and streams."""

import csv
import io
import json

import pytest

from jupyter_datashare.core.audit import FIELDS, Event

HEADER = ",".join([*FIELDS, "entry_hash"])


async def export(call, fmt, **params):
    r = await call("GET", "datashare", "api", "audit", params={"format": fmt, **params})
    assert r.code == 200, r.body[:300]
    assert r.headers["Content-Disposition"] == f'attachment; filename="datashare-audit.{fmt}"'
    text = r.body.decode()
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines()]


async def listed(call, **params):
    out = await call.json("GET", "datashare", "api", "audit", params={"order": "oldest", "limit": "1000", **params})
    return [e["seq"] for e in out["events"]]


async def two_days(call, share, clock):
    """Events on two days: d1 shared on 1 March; d2 shared and d1 retitled on 3 March."""
    d1 = await share()
    clock.advance(days=2)
    d2 = await share(path="data/table.csv", title="Only the table")
    await call.json("PATCH", "datashare", "api", "datasets", d1["id"], body={"title": "Better title"})
    return d1["id"], d2["id"]


async def test_export_honours_the_filters(call, share, clock):
    d1, d2 = await two_days(call, share, clock)
    everything = await export(call, "csv")
    assert [r["seq"] for r in everything] == ["1", "2", "3"]
    cases = [
        ({"dataset": d1}, [1, 3]),
        ({"action": "dataset.shared"}, [1, 2]),
        ({"since": "2026-03-02"}, [2, 3]),
        ({"until": "2026-03-01"}, [1]),  # a date includes its whole day
        ({"until": "2026-03-01T12:00:00Z"}, []),  # a moment does not include itself
        ({"dataset": d1, "since": "2026-03-02"}, [3]),
        ({"dataset": d2, "until": "2026-03-02"}, []),
    ]
    for params, seqs in cases:
        rows = await export(call, "csv", **params)
        assert [int(r["seq"]) for r in rows] == seqs, params
        lines = await export(call, "jsonl", **params)
        assert [e["seq"] for e in lines] == seqs, params
        assert await listed(call, **params) == seqs, params  # the same scope as the event list


async def test_csv_and_jsonl_read_back(call, share, clock):
    d1, _ = await two_days(call, share, clock)
    r = await call("GET", "datashare", "api", "audit", params={"format": "csv", "dataset": d1})
    assert r.body.decode().splitlines()[0] == HEADER
    assert r.headers["Content-Type"].startswith("text/csv")
    (shared, updated) = await export(call, "csv", dataset=d1)
    assert (shared["action"], shared["dataset_id"]) == ("dataset.shared", d1)
    assert json.loads(updated["details"]) == {"fields": ["title"]}
    (line,) = await export(call, "jsonl", dataset=d1, action="dataset.updated")
    assert line["details"] == {"fields": ["title"]} and len(line["entry_hash"]) == 64
    nothing = await call("GET", "datashare", "api", "audit", params={"format": "csv", "action": "no.such"})
    assert nothing.body.decode().splitlines() == [HEADER]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
@pytest.mark.parametrize("field, value", [("since", "last tuesday"), ("until", "2026-02-30"), ("since", "")])
async def test_a_bad_date_is_a_400_naming_the_field(call, fmt, field, value):
    r = await call("GET", "datashare", "api", "audit", params={"format": fmt, field: value})
    if value == "":
        assert r.code == 200  # an empty filter is no filter, as in the event list
        return
    assert r.code == 400 and json.loads(r.body)["field"] == field
    assert "Content-Disposition" not in r.headers


async def test_a_long_export_streams_every_event_in_order(call, ctx):
    with ctx.audit.transaction() as s:
        for i in range(2500):
            ctx.audit.append(s, Event("file.downloaded" if i % 5 else "link.created", "ada", dataset_id="ds-x",
                                      file=f"part-{i:05d}.csv", client="10.0.0.1"))  # fmt: skip
    r = await call("GET", "datashare", "api", "audit", params={"format": "jsonl"})
    assert r.headers.get("Transfer-Encoding") == "chunked"  # sent in pieces, not built whole first
    seqs = [json.loads(line)["seq"] for line in r.body.decode().splitlines()]
    assert seqs == list(range(1, 2501))
    created = await export(call, "csv", action="link.created")
    assert [int(x["seq"]) for x in created] == list(range(1, 2501, 5))


# -- pages by cursor ------------------------------------------------------------------------------


def record(ctx, n, *, datasets=("ds-a",), actions=("file.downloaded",)):
    with ctx.audit.transaction() as s:
        return [ctx.audit.append(s, Event(actions[i % len(actions)], "ada", dataset_id=datasets[i % len(datasets)]))
                for i in range(n)]  # fmt: skip


async def pages(call, *, limit, between=None, **params):
    """Every page, following ``next``; ``between(i)`` runs after page i (to add events meanwhile)."""
    seqs, cursor, i = [], None, 0
    while True:
        page = await call.json("GET", "datashare", "api", "audit",
                               params={"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})})  # fmt: skip
        seqs += [e["seq"] for e in page["events"]]
        cursor = page["next"]
        if between:
            between(i)
        i += 1
        if cursor is None:
            return seqs


async def test_cursor_pages_are_stable_under_inserts(call, ctx):
    record(ctx, 25)
    # Back through history: events appended after page 1 neither repeat nor push one past the cut.
    back = await pages(call, limit=10, between=lambda i: record(ctx, 7) if i == 0 else None)
    assert back == list(range(25, 0, -1))
    # An offset instead serves again as many events as arrived in between: why the panel left it.
    first = await call.json("GET", "datashare", "api", "audit", params={"limit": "10"})
    record(ctx, 3)
    second = await call.json("GET", "datashare", "api", "audit", params={"limit": "10", "offset": "10"})
    assert [e["seq"] for e in first["events"]][-3:] == [e["seq"] for e in second["events"]][:3]
    # Oldest first (after=<seq>), the newcomers come at the end, each once.
    forward = await pages(call, limit=8, order="oldest", between=lambda i: record(ctx, 2) if i < 2 else None)
    assert forward == list(range(1, 35 + 4 + 1))
    page = await call.json("GET", "datashare", "api", "audit", params={"limit": "5", "after": "30", "order": "oldest"})
    assert [e["seq"] for e in page["events"]] == [31, 32, 33, 34, 35] and page["next"] == "35"
    page = await call.json("GET", "datashare", "api", "audit", params={"limit": "5", "before": "3"})
    assert [e["seq"] for e in page["events"]] == [2, 1] and page["next"] is None


async def test_filters_combine_with_the_cursor(call, ctx):
    record(ctx, 60, datasets=("ds-a", "ds-b", "ds-c"), actions=("file.downloaded", "link.created"))
    everything = (await call.json("GET", "datashare", "api", "audit", params={"limit": "1000"}))["events"]
    want = [e["seq"] for e in everything if e["dataset_id"] == "ds-b"]
    assert await pages(call, limit=4, dataset="ds-b") == want
    want = [e["seq"] for e in everything if e["dataset_id"] == "ds-b" and e["action"] == "link.created"]
    assert len(want) == 10 and await pages(call, limit=3, dataset="ds-b", action="link.created") == want
    oldest = await pages(call, limit=7, action="file.downloaded", order="oldest")
    assert oldest == sorted(e["seq"] for e in everything if e["action"] == "file.downloaded")


@pytest.mark.parametrize("params, field", [
    ({"before": "abc"}, "before"),
    ({"after": "-1"}, "after"),
    ({"cursor": "eyJhIjoxfQ"}, "cursor"),  # another list's cursor
    ({"before": "9", "after": "2"}, "after"),
    ({"cursor": "9", "before": "9"}, "cursor"),
    ({"before": "9", "offset": "10"}, "offset"),
    ({"before": "9", "order": "oldest"}, "order"),
    ({"order": "sideways"}, "order"),
])  # fmt: skip
async def test_a_bad_cursor_is_a_400_naming_the_field(call, ctx, params, field):
    record(ctx, 3)
    r = await call("GET", "datashare", "api", "audit", params=params)
    assert r.code == 400 and json.loads(r.body)["field"] == field


async def test_verify_over_http_starts_where_the_last_one_ended_or_from_the_first_with_full(call, ctx):
    record(ctx, 12)
    first = await call.json("GET", "datashare", "api", "audit", "verify")
    assert first["ok"] and first["full"] and first["from_size"] == 0 and first["events"] == 12
    record(ctx, 3)
    quick = await call.json("GET", "datashare", "api", "audit", "verify")
    assert quick["ok"] and not quick["full"] and (quick["from_size"], quick["checked"], quick["events"]) == (12, 3, 15)
    assert quick["from_kind"] == "verification" and quick["from_time"]
    full = await call.json("GET", "datashare", "api", "audit", "verify", params={"full": "1"})
    assert full["ok"] and full["full"] and full["checked"] == 15
    r = await call("GET", "datashare", "api", "audit", "verify", params={"full": "maybe"})
    assert r.code == 400 and json.loads(r.body)["field"] == "full"
