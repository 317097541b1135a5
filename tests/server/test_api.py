"""The researcher's JSON API against the real server."""

import hashlib
import json
import pytest

from tests.conftest import link_for


async def test_share_a_folder(call, share):
    d = await share(creators=[{"name": "Ada Example", "orcid": "0000-0002-1825-0097"}], keywords=["soil"])
    assert d["id"].startswith("ds-") and d["version"] == 1
    assert [f["path"] for f in d["files"]] == ["notes/readme.txt", "table.csv"]
    table = next(f for f in d["files"] if f["path"] == "table.csv")
    assert table["sha256"] == hashlib.sha256(b"id,value\n1,10\n2,20\n").hexdigest() and table["size"] == 19
    assert d["license"]["id"] == "CC-BY-4.0" and d["access"]["level"] == "open"
    listed = await call.json("GET", "datashare", "api", "datasets")
    assert [x["id"] for x in listed["datasets"]] == [d["id"]]
    assert listed["datasets"][0]["file_count"] == 2


async def test_the_api_needs_a_jupyter_login(call, share):
    d = await share()
    for method, parts in [
        ("GET", ("datashare", "api", "datasets")),
        ("POST", ("datashare", "api", "datasets")),
        ("GET", ("datashare", "api", "datasets", d["id"])),
        ("DELETE", ("datashare", "api", "datasets", d["id"])),
        ("POST", ("datashare", "api", "datasets", d["id"], "links")),
        ("GET", ("datashare", "api", "audit")),
        ("GET", ("datashare", "api", "audit", "verify")),
    ]:
        r = await call(method, *parts, anon=True)
        assert r.code == 403, (method, parts, r.code)
    listed = await call.json("GET", "datashare", "api", "datasets")
    assert not listed["datasets"][0]["withdrawn"]


BAD_SHARES = [
    ({"path": "../outside.csv", "title": "t"}, "path"),
    ({"path": "/etc/passwd", "title": "t"}, "path"),
    ({"path": "data/.hidden.csv", "title": "t"}, "path"),
    ({"path": "missing.csv", "title": "t"}, "path"),
    ({"path": "emptydir", "title": "t"}, "path"),
    ({"path": "data", "title": ""}, "title"),
    ({"path": "data", "title": "t", "access": {"level": "secret"}}, "access.level"),
    ({"path": "data", "title": "t", "access": {"level": "embargoed"}}, "access.embargo_until"),
    ({"path": "data", "title": "t", "access": {"level": "embargoed", "embargo_until": "2020-01-01"}}, "access.embargo_until"),
    ({"path": "data", "title": "t", "license": "MIT-ish"}, "license"),
    ({"path": "data", "title": "t", "creators": [{"name": "A", "orcid": "1234"}]}, "creators[0].orcid"),
]


@pytest.mark.parametrize("body, field", BAD_SHARES)
async def test_bad_shares_name_the_field_and_store_nothing(call, make_files, server_root, body, field):
    make_files({"data/a.csv": "x\n", "data/.hidden.csv": "y\n"})
    (server_root / "emptydir").mkdir()
    r = await call("POST", "datashare", "api", "datasets", body=body)
    assert r.code == 400
    err = json.loads(r.body)
    assert err["field"] == field and field in err["message"]
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []
    assert (await call.json("GET", "datashare", "api", "audit"))["events"] == []


async def test_malformed_json_is_refused(call):
    for raw in ("{not json", "[1, 2]", '"text"'):
        r = await call("POST", "datashare", "api", "datasets", raw_body=raw)
        assert r.code == 400 and json.loads(r.body)["field"] == "body"


async def test_update_metadata_and_access(call, share):
    d = await share()
    out = await call.json("PATCH", "datashare", "api", "datasets", d["id"],
                          body={"title": "Better title", "access": {"level": "embargoed", "embargo_until": "2026-09-01"}})  # fmt: skip
    assert out["title"] == "Better title" and out["access"]["level_in_force"] == "embargoed"
    r = await call("PATCH", "datashare", "api", "datasets", d["id"], body={"title": " "})
    assert r.code == 400 and json.loads(r.body)["field"] == "title"
    events = (await call.json("GET", "datashare", "api", "audit"))["events"]
    # No longer open: the files were encrypted at rest right after the change.
    assert [e["action"] for e in events][:3] == ["dataset.encrypted", "access.changed", "dataset.updated"]


async def test_new_version_and_old_file_download(call, share, server_root):
    d = await share()
    (server_root / "data" / "table.csv").write_text("id,value\n1,11\n")
    v2 = await call.json("POST", "datashare", "api", "datasets", d["id"], "versions", expect=201)
    assert v2["version"] == 2 and [v["number"] for v in v2["versions"]] == [1, 2]
    old = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True, params={"version": "1"})
    new = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert old.body == b"id,value\n1,10\n2,20\n" and new.body == b"id,value\n1,11\n"


async def test_withdraw(call, share):
    d = await share()
    out = await call.json("DELETE", "datashare", "api", "datasets", d["id"], body={"reason": "error in data"})
    assert out["withdrawn"] and out["withdrawal_reason"] == "error in data"
    page = await call("GET", "datashare", "d", d["id"], anon=True)
    assert page.code == 410 and b"withdrawn" in page.body
    f = await call("GET", "datashare", "d", d["id"], "files", "table.csv", anon=True)
    assert f.code in (403, 404)
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []


async def test_links_lifecycle(call, share):
    d = await share(access={"level": "reviewer-only"})
    link = await link_for(call, d["id"], label="Reviewer 2", expires_in_days=7, anonymous=True)
    assert link["url"].split("/datashare/r/")[1].startswith("dsr_")
    assert link["expires_at"] and link["state"] == "active" and link["anonymous"]
    listed = await call.json("GET", "datashare", "api", "datasets", d["id"], "links")
    assert "url" not in listed["links"][0]  # the secret is shown once only
    assert link["url"].split("/")[-1] not in json.dumps(listed)
    revoked = await call.json("DELETE", "datashare", "api", "links", link["id"])
    assert revoked["state"] == "revoked"


@pytest.mark.parametrize(
    "body, field",
    [({"expires_in_days": 0}, "expires_in_days"), ({"expires_in_days": 10_000}, "expires_in_days"),
     ({"expires_in_days": -3}, "expires_in_days"), ({"label": 5}, "label"), ({"version": 9}, "version"),
     ({"anonymous": "yes"}, "anonymous"), ({"scope": "all"}, "scope")],
)  # fmt: skip
async def test_bad_links_name_the_field(call, share, body, field):
    d = await share(access={"level": "reviewer-only"})
    r = await call("POST", "datashare", "api", "datasets", d["id"], "links", body=body)
    assert r.code == 400 and json.loads(r.body)["field"] == field
    assert (await call.json("GET", "datashare", "api", "datasets", d["id"], "links"))["links"] == []


async def test_owner_downloads_restricted_files_and_it_is_logged(call, share):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    r = await call("GET", *d["files"][1]["url"].split("?")[0].strip("/").split("/")[1:], params={"version": "1"})
    assert r.code == 200 and r.body.startswith(b"id,value")
    events = (await call.json("GET", "datashare", "api", "audit", params={"action": "file.downloaded"}))["events"]
    assert events[0]["actor"] == "ada-owner" and events[0]["file"] == "table.csv"


async def test_audit_filters_verify_and_export(call, share):
    d1 = await share()
    d2 = await share(path="data/table.csv", title="Only the table")
    by_ds = (await call.json("GET", "datashare", "api", "audit", params={"dataset": d2["id"]}))["events"]
    assert [e["dataset_id"] for e in by_ds] == [d2["id"]]
    verify = await call.json("GET", "datashare", "api", "audit", "verify")
    assert verify["ok"] and verify["events"] == 2
    cp = await call.json("POST", "datashare", "api", "audit", "checkpoint")
    assert cp["checkpoint"].splitlines()[1] == "2" and cp["verifier_key"].startswith("jupyter-datashare/")
    r = await call("GET", "datashare", "api", "audit", params={"format": "csv"})
    assert r.code == 200 and r.body.decode().splitlines()[0].startswith("seq,ts,actor,action")
    assert d1["id"] in r.body.decode()
    bad = await call("GET", "datashare", "api", "audit", params={"limit": "0"})
    assert bad.code == 400 and json.loads(bad.body)["field"] == "limit"


async def test_every_verb_is_authenticated_or_deliberately_public(jp_serverapp):
    """jupyter-server's own check (the one behind JupyterServerAuthWarning) finds nothing of ours."""
    ext = jp_serverapp.extension_manager.extension_apps["jupyter_datashare"]
    app = next(iter(ext))
    assert len(app.handlers) >= 14
    for pattern, handler, *_ in app.handlers:
        assert jp_serverapp.web_app._check_handler_auth(pattern, handler) == [], pattern
    assert jp_serverapp.allow_unauthenticated_access is False


async def test_a_jupyter_server_takes_no_uploads_into_its_folders(call, server_root):
    """api/files is the standalone service's: a Jupyter server shares from its own disk, and an
    owner's token there must not become a way to write files into it."""
    r = await call("PUT", "datashare", "api", "files", "planted.txt", raw_body=b"x", headers={"X-File-SHA256": "0" * 64})
    assert r.code == 404 and not (server_root / "planted.txt").exists()
