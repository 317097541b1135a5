"""The Jupyter extension in client mode: a real service process (``jupyter datashare serve``) and
pytest-jupyter's server pointed at it with ``service_url`` and a token file. The panel's API works as
in local mode; the data, the links and the owner's identity are the service's."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from urllib.parse import urlparse

import pytest

from ..conftest import server_config
from ..service.process import Service

TABLE = b"id,value\n1,10\n2,20\n"


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path / "service")
    token = s.token("alice")
    s.start()
    s.token_file = tmp_path / "alice.token"
    s.token_file.write_text(token + "\n")
    s.alice = token
    yield s
    s.stop()


@pytest.fixture
def jp_server_config(clock, ds_config, service):
    ds_config.update(service_url=f"http://127.0.0.1:{service.port}/", service_token_file=str(service.token_file))
    return server_config(clock, ds_config)


def at_service(service, url: str) -> str:
    u = urlparse(url)
    assert (u.hostname, u.port) == ("127.0.0.1", service.port), url
    return u.path


async def test_a_share_goes_to_the_service_whose_links_outlive_this_server(call, make_files, service, jp_serverapp):
    here = jp_serverapp.web_app.settings["datashare"]
    assert not hasattr(here, "engine") and not os.path.exists(here.settings.data_dir), "client mode keeps no store"
    make_files({"data/table.csv": TABLE, "data/notes/readme.txt": "about\n"})
    out = await call.json("POST", "datashare", "api", "datasets", expect=201,
                          body={"path": "data", "title": "Field measurements", "access": {"level": "reviewer-only"}})  # fmt: skip
    # The owner is the token's user at the service, not this server's configured owner (ada-owner).
    assert out["owner"] == "alice" and out["version"] == 1
    assert sorted(f["path"] for f in out["files"]) == ["notes/readme.txt", "table.csv"]
    assert at_service(service, out["landing_page"]) == f"/d/{out['id']}"
    # The uploaded copy is gone from alice's folder there: the store holds the files now.
    assert not (service.root / "alice" / "data").exists()

    link = await call.json("POST", "datashare", "api", "datasets", out["id"], "links", body={"label": "R2"}, expect=201)
    path = at_service(service, link["url"])
    status, _, data = service.call("GET", path + "/files/table.csv")
    assert status == 200 and data == TABLE

    # The panel's reads go to the service too: the list, the owner's own download (streamed back).
    listed = await call.json("GET", "datashare", "api", "datasets")
    assert [d["id"] for d in listed["datasets"]] == [out["id"]]
    r = await call("GET", "datashare", "api", "datasets", out["id"], "files", "table.csv")
    assert r.code == 200 and r.body == TABLE and r.headers["Content-Type"].startswith("text/csv")
    # The service's audit log recorded both downloads of the reviewer-only file: the reviewer's, alice's.
    events = await call.json("GET", "datashare", "api", "audit")
    downloads = [e for e in events["events"] if e["action"] == "file.downloaded"]
    assert len(downloads) == 2 and {e["dataset_id"] for e in downloads} == {out["id"]}


async def test_a_bad_field_is_refused_before_anything_is_sent(call, make_files, service):
    make_files({"data/table.csv": TABLE})
    r = await call("POST", "datashare", "api", "datasets", body={"path": "data", "title": "", "access": {"level": "open"}})
    assert r.code == 400 and json.loads(r.body)["field"] == "title"
    assert not (service.root / "alice").exists()  # not one byte uploaded
    r = await call("POST", "datashare", "api", "datasets", body={"path": "missing", "title": "T"})
    assert r.code == 400 and json.loads(r.body)["field"] == "path"
    status, body = service.json("GET", "/api/datasets", token=service.alice)
    assert body["datasets"] == []


async def _wait(call, job_id: str) -> dict:
    for _ in range(400):
        job = await call.json("GET", "datashare", "api", "jobs", job_id)
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


async def test_a_share_as_a_job_shows_progress_and_hands_the_committee_links_out_once(call, make_files, service):
    make_files({"data/table.csv": TABLE})
    body = {"path": "data", "title": "Cohort", "access": {"level": "restricted"},
            "committee": {"members": [{"name": "Dr External", "email": "ext@example.org"}]}}  # fmt: skip
    r = await call("POST", "datashare", "api", "datasets", body=body, params={"async": "1"})
    assert r.code == 202, r.body
    job = json.loads(r.body)["job"]
    assert r.headers["Location"].endswith(f"/datashare/api/jobs/{job['id']}")
    assert job["bytes_total"] == len(TABLE) and job["files_total"] == 1
    done = await _wait(call, job["id"])
    assert done["state"] == "done", done
    assert done["dataset"]["access"]["level"] == "restricted" and done["bytes_done"] == len(TABLE)
    (member,) = done["committee_links"]
    assert re.search(r"/c/dsc_[A-Za-z0-9_-]{43}$", at_service(service, member["url"]))
    again = await call.json("GET", "datashare", "api", "jobs", job["id"])
    assert again["committee_links"] == [] and again["dataset"]["id"] == done["dataset"]["id"]


async def test_stop_leaves_nothing_shared(call, server_root, service):
    (server_root / "big").mkdir()
    with open(server_root / "big" / "blob.bin", "wb") as f:
        f.truncate(512 << 20)  # sparse: hashing and sending take a while, no disk
    r = await call("POST", "datashare", "api", "datasets", body={"path": "big", "title": "Big"}, params={"async": "1"})
    assert r.code == 202
    job_id = json.loads(r.body)["job"]["id"]
    await call.json("DELETE", "datashare", "api", "jobs", job_id)
    done = await _wait(call, job_id)
    assert done["state"] == "failed" and "cancelled" in done["error"]["message"], done
    status, body = service.json("GET", "/api/datasets", token=service.alice)
    assert body["datasets"] == []
    assert not (service.root / "alice" / "big").exists()  # what arrived of it was taken away


async def test_a_new_version_sends_the_folder_as_it_is_now(call, make_files, server_root, service):
    make_files({"data/table.csv": TABLE, "data/old.txt": "gone soon"})
    out = await call.json("POST", "datashare", "api", "datasets", body={"path": "data", "title": "T"}, expect=201)
    (server_root / "data" / "old.txt").unlink()
    (server_root / "data" / "table.csv").write_bytes(TABLE + b"3,30\n")
    v2 = await call.json("POST", "datashare", "api", "datasets", out["id"], "versions", body={}, expect=201)
    assert v2["version"] == 2 and [f["path"] for f in v2["files"]] == ["table.csv"]
    assert v2["files"][0]["sha256"] == hashlib.sha256(TABLE + b"3,30\n").hexdigest()
    status, _, data = service.call("GET", f"/d/{out['id']}/files/table.csv")
    assert status == 200 and data == TABLE + b"3,30\n"
    old = await call("GET", "datashare", "api", "datasets", out["id"], "files", "table.csv", params={"version": "1"})
    assert old.body == TABLE


@pytest.fixture
def store_in_root(ds_config, server_root):
    """A local store (from local mode) inside the server root: client mode must never send it."""
    store = server_root / "old-store"
    store.mkdir()
    (store / "datashare.db").write_text("the old local database")
    ds_config["data_dir"] = str(store)
    return store


async def test_nothing_of_a_local_store_is_ever_uploaded(store_in_root, call, server_root, service):
    (server_root / "data").mkdir()
    (server_root / "data" / "db").symlink_to(store_in_root / "datashare.db")
    for path in ("old-store", "old-store/datashare.db", "data"):
        r = await call("POST", "datashare", "api", "datasets", body={"path": path, "title": "T"})
        assert r.code == 400 and json.loads(r.body)["field"] == "path", (path, r.body)
    assert not (service.root / "alice").exists()


async def test_the_service_down_is_a_clear_error(call, make_files, service):
    service.stop()
    r = await call("GET", "datashare", "api", "datasets")
    assert r.code == 502
    body = json.loads(r.body)
    assert body["error"] == "ServiceUnreachable" and f"127.0.0.1:{service.port}" in body["message"]


async def test_only_this_server_s_owner_acts_with_its_token(call, make_files, service):
    """Another Jupyter user this server lets in (a shared server) must not act as its owner."""
    make_files({"data/table.csv": TABLE})
    out = await call.json("POST", "datashare", "api", "datasets", body={"path": "data", "title": "T"}, expect=201)
    bob = {"Authorization": "token bob-token"}
    for method, parts, body in (
        ("GET", ("datasets",), None), ("POST", ("datasets",), {"path": "data", "title": "Mine now"}),
        ("POST", ("datasets", out["id"], "links"), {}), ("GET", ("datasets", out["id"], "files", "table.csv"), None),
        ("GET", ("audit",), None), ("POST", ("datasets", out["id"], "versions"), {}), ("GET", ("jobs", "job-x"), None),
    ):  # fmt: skip
        r = await call(method, "datashare", "api", *parts, body=body, headers=bob)
        assert r.code == 403, (method, parts, r.code)
    status, body = service.json("GET", "/api/datasets", token=service.alice)
    assert [d["id"] for d in body["datasets"]] == [out["id"]]


async def test_a_file_swapped_for_a_link_after_the_check_is_not_sent(call, make_files, server_root, service, jp_serverapp):
    from jupyter_datashare.client import sharing

    make_files({"data/a.csv": TABLE, "data/b.csv": TABLE, "secret.txt": "not for sharing\n"})
    here = jp_serverapp.web_app.settings["datashare"]
    up = sharing.plan(str(server_root), "data")
    (server_root / "data" / "b.csv").unlink()
    (server_root / "data" / "b.csv").symlink_to(server_root / "secret.txt")
    with pytest.raises(Exception) as info:
        sharing.share(here.service, str(server_root), {"path": "data", "title": "T"}, up=up)
    assert getattr(info.value, "field", None) == "path" and "b.csv" in str(info.value)
    status, body = service.json("GET", "/api/datasets", token=service.alice)
    assert body["datasets"] == [] and not list((service.root / "alice").rglob("*.csv"))


async def test_the_token_file_and_keys_are_never_sent(call, server_root, service, jp_serverapp, ds_config):
    import shutil

    shutil.copy(service.token_file, server_root / "token.txt")
    (server_root / "data").mkdir()
    (server_root / "data" / "t").symlink_to(service.token_file)  # a link to the token file itself
    here = jp_serverapp.web_app.settings["datashare"]
    assert str(service.token_file) in here.never_uploaded
    r = await call("POST", "datashare", "api", "datasets", body={"path": "data", "title": "T"})
    assert r.code == 400 and json.loads(r.body)["field"] == "path", r.body
    status, body = service.json("GET", "/api/datasets", token=service.alice)
    assert body["datasets"] == []


async def test_hidden_files_are_never_sent(call, make_files, service):
    make_files({"data/.env": "SECRET=1\n", "data/t.csv": TABLE})
    r = await call("POST", "datashare", "api", "datasets", body={"path": "data", "title": "T", "include_hidden": True})
    assert r.code == 400 and json.loads(r.body)["field"] == "include_hidden"
    r = await call("POST", "datashare", "api", "datasets", body={"path": "data", "title": "T"}, params={"check": "0"})
    assert r.code == 201 and [f["path"] for f in json.loads(r.body)["files"]] == ["t.csv"]  # ?check=0: a share


async def test_a_big_file_is_hashed_as_it_is_sent_and_arrives_whole(call, server_root, service):
    import os

    (server_root / "big").mkdir()
    data = os.urandom(3 << 20) * 7  # 21 MiB: past the size that is hashed before it is sent
    (server_root / "big" / "b.bin").write_bytes(data)
    out = await call.json("POST", "datashare", "api", "datasets", body={"path": "big", "title": "Big"}, expect=201)
    assert out["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    status, _, got = service.call("GET", f"/d/{out['id']}/files/b.bin")
    assert status == 200 and got == data
