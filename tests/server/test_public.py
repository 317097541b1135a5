"""Landing pages, review links and downloads, as a browser without a Jupyter login sees them."""

import hashlib
import json

import pytest

from tests.conftest import link_for, path_of

JSON = {"Accept": "application/json"}
TABLE = b"id,value\n1,10\n2,20\n"


async def test_open_dataset_landing_page_and_download(call, share):
    d = await share(title="Soil <script>alert(1)</script> cores")
    page = await call("GET", "datashare", "d", d["id"], anon=True)
    html = page.body.decode()
    assert page.code == 200 and "text/html" in page.headers["Content-Type"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "table.csv" in html and hashlib.sha256(TABLE).hexdigest() in html
    data = json.loads((await call("GET", "datashare", "d", d["id"], anon=True, headers=JSON)).body)
    assert data["title"].startswith("Soil") and data["can_download"] and data["creators"] == []
    f = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert f.code == 200 and f.body == TABLE
    assert f.headers["ETag"] == f'"{hashlib.sha256(TABLE).hexdigest()}"'
    assert f.headers["Content-Disposition"].startswith("attachment;")
    assert f.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in f.headers["Content-Security-Policy"]
    # Open data is not logged per download; it is open.
    events = (await call.json("GET", "datashare", "api", "audit"))["events"]
    assert [e["action"] for e in events] == ["dataset.shared"]


async def test_ranges_etags_and_head(call, share):
    d = await share()
    parts = ("datashare", "d", d["id"], "files", "table.csv")
    r = await call("GET", *parts, anon=True, headers={"Range": "bytes=3-7"})
    assert r.code == 206 and r.body == TABLE[3:8] and r.headers["Content-Range"] == f"bytes 3-7/{len(TABLE)}"
    r = await call("GET", *parts, anon=True, headers={"Range": "bytes=-4"})
    assert r.code == 206 and r.body == TABLE[-4:]
    r = await call("GET", *parts, anon=True, headers={"Range": "bytes=0-1,4-5"})
    assert r.code == 200 and r.body == TABLE  # several ranges (no multipart here): ignored, RFC 9110 §14.2
    for bad in ("bytes=500-", "bytes=9-2"):
        r = await call("GET", *parts, anon=True, headers={"Range": bad})
        assert r.code == 416 and r.headers["Content-Range"] == f"bytes */{len(TABLE)}", bad
        assert "Range" in json.loads(r.body)["message"] if r.headers["Content-Type"].startswith("application/json") else True
    etag = f'"{hashlib.sha256(TABLE).hexdigest()}"'
    r = await call("GET", *parts, anon=True, headers={"If-None-Match": etag})
    assert r.code == 304 and r.body == b""
    r = await call("GET", *parts, anon=True, headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert r.code == 200 and r.body == TABLE
    r = await call("HEAD", *parts, anon=True)
    assert r.code == 200 and r.body == b"" and r.headers["Content-Length"] == str(len(TABLE))


async def test_embargo_closes_files_until_its_date(call, share, clock):
    d = await share(access={"level": "embargoed", "embargo_until": "2026-04-01"})
    page = await call("GET", "datashare", "d", d["id"], anon=True)
    assert page.code == 200 and "embargo" in page.body.decode().lower()
    f = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert f.code == 403 and "embargo" in f.body.decode()
    clock.advance(days=31)
    f = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert f.code == 200 and f.body == TABLE
    actions = [e["action"] for e in (await call.json("GET", "datashare", "api", "audit"))["events"]]
    assert "embargo.lifted" in actions and "file.denied" in actions


async def test_reviewer_only_is_invisible_without_its_link(call, share):
    d = await share(access={"level": "reviewer-only"})
    assert (await call("GET", "datashare", "d", d["id"], anon=True)).code == 404
    assert (await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)).code == 404
    link = await link_for(call, d["id"], label="Editor")
    page = await call("GET", *path_of(link["url"]), anon=True)
    assert page.code == 200 and "Field measurements" in page.body.decode()
    f = await call("GET", *path_of(link["url"]), "files", "table.csv", anon=True, headers={"Range": "bytes=0-1"})
    assert f.code == 206 and f.body == b"id"
    listed = (await call.json("GET", "datashare", "api", "datasets", d["id"], "links"))["links"][0]
    assert listed["use_count"] == 2 and listed["last_used_at"]
    events = (await call.json("GET", "datashare", "api", "audit", params={"dataset": d["id"]}))["events"]
    download = next(e for e in events if e["action"] == "file.downloaded")
    assert download["byte_range"] == "0-1" and download["link_id"] == link["id"] and download["client"] == "127.0.0.1"
    assert any(e["action"] == "dataset.viewed" for e in events)


async def test_restricted_shows_metadata_not_files(call, share):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    page = await call("GET", "datashare", "d", d["id"], anon=True, headers=JSON)
    assert page.code == 200 and not json.loads(page.body)["can_download"]
    f = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert f.code == 403
    allowed = await link_for(call, d["id"], allow_restricted=True)
    f = await call("GET", *path_of(allowed["url"]), "files", "table.csv", anon=True)
    assert f.code == 200 and f.body == TABLE


async def test_a_link_serves_the_version_it_was_made_for(call, share, server_root):
    d = await share(access={"level": "reviewer-only"})
    link = await link_for(call, d["id"])
    (server_root / "data" / "table.csv").write_text("changed after review started\n")
    await call.json("POST", "datashare", "api", "datasets", d["id"], "versions", expect=201)
    f = await call("GET", *path_of(link["url"]), "files", "table.csv", anon=True)
    assert f.body == TABLE
    other = await call("GET", *path_of(link["url"]), "files", "table.csv", anon=True, params={"version": "2"})
    assert other.body == TABLE  # the link ignores other versions


async def test_revoked_expired_and_unknown_links_answer_the_same(call, share, clock):
    d = await share(access={"level": "reviewer-only"})
    revoked = await link_for(call, d["id"])
    expiring = await link_for(call, d["id"], expires_in_days=1)
    await call.json("DELETE", "datashare", "api", "links", revoked["id"])
    clock.advance(days=2)
    unknown = revoked["url"][:-6] + "AAAAAA"
    answers = set()
    for url in (revoked["url"], expiring["url"], unknown):
        for suffix in ((), ("files", "table.csv")):
            r = await call("GET", *path_of(url), *suffix, anon=True)
            assert r.code == 404
            answers.add(r.body)
    assert len(answers) == 1


async def test_anonymous_links_reveal_no_identity(call, share):
    d = await share(
        access={"level": "reviewer-only"},
        creators=[{"name": "Ada Lovelace", "orcid": "0000-0002-1825-0097", "affiliation": "Analytical Engine Society"}],
    )
    link = await link_for(call, d["id"], anonymous=True)
    seen = []
    for headers in ({}, JSON):
        r = await call("GET", *path_of(link["url"]), anon=True, headers=headers)
        seen.append(r)
    seen.append(await call("GET", *path_of(link["url"]), "files", "table.csv", anon=True))
    seen.append(await call("GET", *path_of(link["url"]), "files", "nope.csv", anon=True))
    for r in seen:
        text = r.body.decode(errors="replace") + json.dumps(dict(r.headers))
        for identity in ("Ada", "Lovelace", "0000-0002-1825-0097", "Analytical Engine", "ada-owner"):
            assert identity not in text, (identity, r.code)
    named = await link_for(call, d["id"])
    r = await call("GET", *path_of(named["url"]), anon=True)
    assert "Ada Lovelace" in r.body.decode()  # the same page does show creators when not anonymous


@pytest.mark.parametrize("ds_config", [{"zero_copy": False, "download_chunk_size": 7}])
async def test_chunked_path_serves_the_same_bytes(call, share, ds_config):
    """Where sendfile cannot be used (TLS, other platforms) the chunked path is byte-identical."""
    d = await share()
    parts = ("datashare", "d", d["id"], "files", "table.csv")
    full = await call("GET", *parts, anon=True)
    assert full.body == TABLE and full.headers["Content-Length"] == str(len(TABLE))
    part = await call("GET", *parts, anon=True, headers={"Range": "bytes=5-16"})
    assert part.code == 206 and part.body == TABLE[5:17]
