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
