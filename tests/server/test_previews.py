import json

from tests.conftest import link_for, path_of

JSON = {"Accept": "application/json"}


async def test_previews_by_level(call, share):
    opened = await share()
    page = json.loads((await call("GET", "datashare", "d", opened["id"], anon=True, headers=JSON)).body)
    table = next(f for f in page["files"] if f["path"] == "table.csv")
    assert table["preview"]["head"] == [[1, 10], [2, 20]] and table["preview"]["rows"] == 2
    html = (await call("GET", "datashare", "d", opened["id"], anon=True)).body.decode()
    assert "Preview of table.csv" in html and "<td>20</td>" in html

    closed = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    public = json.loads((await call("GET", "datashare", "d", closed["id"], anon=True, headers=JSON)).body)
    p = next(f for f in public["files"] if f["path"] == "table.csv")["preview"]
    assert "head" not in p and p["head_hidden"] and [c["name"] for c in p["columns"]] == ["id", "value"]
    assert "<td>20</td>" not in (await call("GET", "datashare", "d", closed["id"], anon=True)).body.decode()
    link = await link_for(call, closed["id"], allow_restricted=True)
    via_link = json.loads((await call("GET", *path_of(link["url"]), anon=True, headers=JSON)).body)
    assert next(f for f in via_link["files"] if f["path"] == "table.csv")["preview"]["head"]
    await call.json("PATCH", "datashare", "api", "datasets", closed["id"], body={"preview_rows_public": True})
    public = json.loads((await call("GET", "datashare", "d", closed["id"], anon=True, headers=JSON)).body)
    assert next(f for f in public["files"] if f["path"] == "table.csv")["preview"]["head"]


async def test_unsupported_files_still_share(call, share):
    d = await share(files={"data/raw.bin": b"\x00\x01\x02", "data/broken.csv": 'a,b\n1,"open\n'})
    by_path = {f["path"]: f for f in d["files"]}
    assert by_path["raw.bin"]["preview"] is None
    assert by_path["broken.csv"]["preview"]["error"].startswith("no preview")
