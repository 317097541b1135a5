"""A stored open file with a flipped byte: before the store check it goes out with its original
checksum as ETag (nothing can tell); after it, every download answers a clear 500, the damage is
in the audit log, and the log still verifies."""

import json
import os

from jupyter_datashare.core import store_check


def flip(path) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[2] ^= 0x20
    path.write_bytes(bytes(data))


async def test_a_damaged_open_file_is_refused_after_the_store_check(call, share, ctx):
    made = await share()
    ds, table = made["id"], next(f for f in made["files"] if f["path"] == "table.csv")
    flip(ctx.store.path(table["sha256"]))
    url = ("datashare", "d", ds, "files", "table.csv")

    report = store_check.check(ctx)
    assert [(d.dataset_id, d.version, d.path) for d in report.damaged] == [(ds, 1, "table.csv")]

    for method in ("GET", "HEAD"):
        r = await call(method, *url, anon=True, headers={"Accept": "application/json"})
        assert r.code == 500 and r.headers.get("ETag") is None
        if method == "GET":
            body = json.loads(r.body)
            assert body["error"] == "DamagedFile" and "damaged" in body["message"]
    r = await call("GET", *url, anon=True)  # a browser gets the same refusal as a page
    assert r.code == 500 and b"damaged" in r.body
    owner = await call("GET", "datashare", "api", "datasets", ds, "files", "table.csv")
    assert owner.code == 500  # not even to its owner
    ok = await call("GET", "datashare", "d", ds, "files", "notes", "readme.txt", anon=True)
    assert ok.code == 200 and ok.body == b"about the data\n"

    events = (await call.json("GET", "datashare", "api", "audit", params={"action": "file.corrupt"}))["events"]
    assert [(e["dataset_id"], e["file"], e["details"]["found_by"]) for e in events] == [(ds, "table.csv", "store check")]
    verify = await call.json("GET", "datashare", "api", "audit", "verify")
    assert verify["ok"] is True
