"""Sharing as a background job: 202 + Location, progress to done, errors, privacy of jobs."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient

from tests import rawdb
from tests.conftest import ON_POSTGRES, OWNER, path_of, server_config
from tests.server.test_api import BAD_SHARES
from tests.server.test_startup import free_port

BOB = {"Authorization": "token bob-token"}
ASYNC = {"async": "1"}
MIB = 1 << 20


@pytest.fixture
def ds_config():
    # One job at a time: a second job waits for the first, which the tests use to order events.
    return {"failed_lookups_per_client": 1000, "failed_lookups_overall": 100_000, "job_threads": 1}


@pytest.fixture
def jp_server_config(clock, ds_config):
    # Three Jupyter users, and no owner_identities: bob may act as the owner too (a shared
    # single-user server), yet the jobs ada starts stay hers.
    return server_config(clock, {"owner_identities": [], **ds_config})


def database_locked(ctx):
    """Hold the database's write lock, as a busy notebook kernel writing to the same store would.

    Readers go on; a job that reaches its commit waits, still "running", until released.
    """
    return rawdb.write_locked(ctx, wait_ms=None)


async def start(call, *parts, body=None, expect=202, **kw):
    r = await call("POST", "datashare", "api", *parts, body=body, params=ASYNC, **kw)
    assert r.code == expect, (r.code, r.body[:300])
    return r, json.loads(r.body)


async def poll(call, job_id, until=lambda j: j["state"] != "running", headers=None, timeout=20.0):
    for _ in range(int(timeout / 0.02)):
        job = await call.json("GET", "datashare", "api", "jobs", job_id, headers=headers)
        if until(job):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: {job}")


async def test_share_as_a_job_reports_progress_until_done(call, make_files):
    make_files({"big/measurements.bin": b"\x01" * (3 * MIB + 17), "big/table.csv": "id,value\n1,10\n",
                "big/notes/readme.txt": "about\n"})  # fmt: skip
    r, out = await start(call, "datasets", body={"path": "big", "title": "Big folder"})
    job = out["job"]
    assert r.headers["Location"].endswith(f"/datashare/api/jobs/{job['id']}")
    assert path_of("http://x" + r.headers["Location"]) == ["datashare", "api", "jobs", job["id"]]
    size = 3 * MIB + 17 + 14 + 6
    assert job["kind"] == "share" and job["files_total"] == 3 and job["bytes_total"] == size

    done = await poll(call, job["id"])
    assert done["state"] == "done" and done["error"] is None and done["finished"]
    assert done["bytes_done"] == done["bytes_total"] == size and done["files_done"] == done["files_total"] == 3
    dataset = done["dataset"]
    assert dataset == await call.json("GET", "datashare", "api", "datasets", dataset["id"])
    assert [f["path"] for f in dataset["files"]] == ["measurements.bin", "notes/readme.txt", "table.csv"]
    events = (await call.json("GET", "datashare", "api", "audit"))["events"]
    assert [(e["action"], e["dataset_id"]) for e in events] == [("dataset.shared", dataset["id"])]


async def test_the_202_of_a_share_finished_at_once_still_hands_the_dataset_out_at_location(call, make_files, jp_serverapp):
    """A tiny share may be frozen before the 202 is written: the 202 still says running (never
    "done" without its dataset, which left the panel with no dataset), and Location has it."""
    from jupyter_datashare.server.jobs import accepted_view

    make_files({"tiny/a.txt": "a\n"})
    _r, out = await start(call, "datasets", body={"path": "tiny", "title": "Tiny"})
    assert out["job"]["state"] == "running" and out["job"]["dataset"] is None
    done = await poll(call, out["job"]["id"])
    assert done["state"] == "done" and done["dataset"]["title"] == "Tiny"
    finished = jp_serverapp.web_app.settings["datashare_jobs"].get("token", out["job"]["id"])
    assert finished.state == "done"  # what the handler held when the freeze was this quick
    view = accepted_view(finished)
    assert (view["state"], view["finished"], view["dataset"]) == ("running", None, None)


async def test_prefer_respond_async_also_starts_a_job(call, make_files):
    make_files({"one.csv": "a\n1\n"})
    r = await call("POST", "datashare", "api", "datasets", body={"path": "one.csv", "title": "One"},
                   headers={"Prefer": "respond-async, wait=0"})  # fmt: skip
    assert r.code == 202 and r.headers["Preference-Applied"] == "respond-async"
    done = await poll(call, json.loads(r.body)["job"]["id"])
    assert done["dataset"]["title"] == "One"


async def test_committee_links_are_shown_once(call, make_files):
    make_files({"study/answers.csv": "q1,q2\n3,4\n"})
    body = {"path": "study", "title": "Survey", "access": {"level": "restricted"},
            "committee": {"members": ["bob", {"name": "Dr Ext", "email": "ext@uni.example"}]}}  # fmt: skip
    _, out = await start(call, "datasets", body=body)
    done = await poll(call, out["job"]["id"])
    (link,) = done["committee_links"]
    assert link["name"] == "Dr Ext" and "/datashare/c/dsc_" in link["url"]
    again = await call.json("GET", "datashare", "api", "jobs", out["job"]["id"])
    assert again["state"] == "done" and again["committee_links"] == []
    assert link["url"].split("/")[-1] not in json.dumps(again)


@pytest.mark.parametrize("body, field", BAD_SHARES)
async def test_a_bad_body_is_refused_at_once_and_starts_no_job(call, make_files, server_root, ctx, jp_serverapp,
                                                              body, field):  # fmt: skip
    make_files({"data/a.csv": "x\n", "data/.hidden.csv": "y\n"})
    (server_root / "emptydir").mkdir()
    r, err = await start(call, "datasets", body=body, expect=400)
    assert err["field"] == field and field in err["message"] and "Location" not in r.headers
    assert len(jp_serverapp.web_app.settings["datashare_jobs"]) == 0
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []
    assert (await call.json("GET", "datashare", "api", "audit"))["events"] == []
    assert list(ctx.store.blobs.iterdir()) == [] and list(ctx.store.tmp.iterdir()) == []


async def test_a_bad_async_flag_names_it(call, make_files):
    make_files({"one.csv": "a\n"})
    r = await call("POST", "datashare", "api", "datasets", body={"path": "one.csv", "title": "t"},
                   params={"async": "soon"})  # fmt: skip
    assert r.code == 400 and json.loads(r.body)["field"] == "async"


async def test_the_server_answers_while_a_job_runs(call, make_files, ctx):
    make_files({"data/a.bin": b"a" * (2 * MIB), "data/b.csv": "x\n1\n"})
    with database_locked(ctx):
        _, out = await start(call, "datasets", body={"path": "data", "title": "T"})
        job_id = out["job"]["id"]
        # Every file is frozen; the job now waits for the database to make the dataset exist.
        frozen = await poll(call, job_id, until=lambda j: j["files_done"] == 2)
        assert frozen["state"] == "running" and frozen["bytes_done"] == frozen["bytes_total"]
        listed = await call.json("GET", "datashare", "api", "datasets")
        assert listed["datasets"] == []  # answered at once, and nothing half-shared shows
        page = await call("GET", "datashare", "d", "ds-unknown", anon=True)
        assert page.code == 404
    done = await poll(call, job_id)
    assert done["state"] == "done"
    assert [d["id"] for d in (await call.json("GET", "datashare", "api", "datasets"))["datasets"]] == [done["dataset"]["id"]]


async def test_a_file_removed_while_sharing_fails_the_job_and_shares_nothing(call, make_files, ctx, server_root):
    make_files({"first/a.csv": "a\n1\n", "second/b1.csv": "b\n1\n", "second/b2.csv": "b\n2\n"})
    with database_locked(ctx):
        _, first = await start(call, "datasets", body={"path": "first", "title": "First"})
        await poll(call, first["job"]["id"], until=lambda j: j["files_done"] == 1)
        # The only job thread is busy: the second share was checked, and waits to be frozen.
        _, second = await start(call, "datasets", body={"path": "second", "title": "Second",
                                                        "access": {"level": "reviewer-only"}})  # fmt: skip
        (server_root / "second" / "b2.csv").unlink()
    assert (await poll(call, first["job"]["id"]))["state"] == "done"
    failed = await poll(call, second["job"]["id"])
    assert failed["state"] == "failed" and failed["dataset"] is None
    assert failed["files_done"] == 1 and failed["files_total"] == 2  # it failed half-way
    assert failed["error"]["field"] == "path" and failed["error"]["status"] == 400
    assert "'b2.csv'" in failed["error"]["message"] and "nothing was stored" in failed["error"]["message"]
    listed = (await call.json("GET", "datashare", "api", "datasets"))["datasets"]
    assert [d["title"] for d in listed] == ["First"]
    assert [e["action"] for e in (await call.json("GET", "datashare", "api", "audit"))["events"]] == ["dataset.shared"]
    assert list(ctx.store.encrypted.iterdir()) == [] and list(ctx.store.tmp.iterdir()) == []


async def test_a_job_can_be_cancelled_and_shares_nothing(call, make_files, ctx):
    make_files({"first/a.csv": "a\n1\n", "second/b.csv": "b\n1\n"})
    with database_locked(ctx):
        _, first = await start(call, "datasets", body={"path": "first", "title": "First"})
        await poll(call, first["job"]["id"], until=lambda j: j["files_done"] == 1)
        _, second = await start(call, "datasets", body={"path": "second", "title": "Second"})
        asked = await call.json("DELETE", "datashare", "api", "jobs", second["job"]["id"])
        assert asked["state"] == "running"  # it stops when it gets its turn
    cancelled = await poll(call, second["job"]["id"])
    assert cancelled["state"] == "failed" and cancelled["error"]["status"] == 409
    assert cancelled["error"]["message"] == "cancelled: nothing was shared"
    assert [d["title"] for d in (await call.json("GET", "datashare", "api", "datasets"))["datasets"]] == ["First"]


async def test_another_user_cannot_see_or_cancel_the_job(call, make_files):
    make_files({"one.csv": "a\n1\n"})
    _, out = await start(call, "datasets", body={"path": "one.csv", "title": "One"})
    job_id = out["job"]["id"]
    for method in ("GET", "DELETE"):
        r = await call(method, "datashare", "api", "jobs", job_id, headers=BOB)
        assert r.code == 404 and json.loads(r.body) == {"error": "NotFound", "message": f"no job '{job_id}'"}
    unknown = await call("GET", "datashare", "api", "jobs", "job-nope")
    assert unknown.code == 404
    assert (await call("GET", "datashare", "api", "jobs", job_id, anon=True)).code == 403
    done = await poll(call, job_id)  # its owner still sees it
    assert done["state"] == "done"
    bobs = await call("GET", "datashare", "api", "jobs", job_id, headers=BOB)
    assert bobs.code == 404


async def test_a_new_version_as_a_job(call, share, server_root):
    d = await share()
    (server_root / "data" / "table.csv").write_text("id,value\n1,11\n3,30\n")
    r, out = await start(call, "datasets", d["id"], "versions")
    assert out["job"]["kind"] == "version" and out["job"]["files_total"] == 2
    done = await poll(call, out["job"]["id"])
    assert done["state"] == "done" and done["dataset"]["version"] == 2
    assert done["bytes_done"] == done["bytes_total"] == done["dataset"]["total_size"]
    events = (await call.json("GET", "datashare", "api", "audit"))["events"]
    assert events[0]["action"] == "version.published" and events[0]["version"] == 2
    await call.json("DELETE", "datashare", "api", "datasets", d["id"])
    r, err = await start(call, "datasets", d["id"], "versions", expect=400)
    assert err["field"] == "id"
    r, err = await start(call, "datasets", "ds-unknown", "versions", expect=404)


# -- a second server process on the same database and store ----------------------------------


class SecondServer:
    """A real ``jupyter server`` process with the extension on the test server's data folder and
    database, with the same token, as a second process behind a load balancer would be."""

    def __init__(self, tmp_path, ctx, token, root):
        self.port, self.token = free_port(), token
        config = tmp_path / "second-config"
        config.mkdir()
        settings = {
            "ServerApp.jpserver_extensions": {"jupyter_datashare": True, "jupyter_server_terminals": False},
            "ServerApp.identity_provider_class": "tests.server.identities.ThreeUsers",
            "IdentityProvider.token": token, "ServerApp.allow_unauthenticated_access": False,
            "ServerApp.ip": "127.0.0.1", "ServerApp.port": self.port, "ServerApp.port_retries": 0,
            "ServerApp.open_browser": False, "ServerApp.root_dir": str(root),
            "DataShareApp.data_dir": ctx.settings.data_dir, "DataShareApp.db_url": ctx.settings.db_url,
            "DataShareApp.owner": OWNER, "DataShareApp.owner_identities": [],
        }  # fmt: skip
        (config / "jupyter_server_config.py").write_text("".join(f"c.{k} = {v!r}\n" for k, v in settings.items()))
        repo = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "second-runtime"),
                   PYTHONPATH=os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])))  # fmt: skip
        self.log = tmp_path / "second-server.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--allow-root"], stdout=out,
                                         stderr=subprocess.STDOUT, env=env)  # fmt: skip

    async def __call__(self, method, *parts, token=None, params="", body=None):
        url = f"http://127.0.0.1:{self.port}/" + "/".join(parts) + (f"?{params}" if params else "")
        auth = "" if token == "" else f"token {token or self.token}"
        return await AsyncHTTPClient().fetch(url, method=method, headers={"Authorization": auth}, raise_error=False,
                                             allow_nonstandard_methods=True,
                                             body=None if body is None else json.dumps(body))  # fmt: skip

    async def ready(self, timeout=120.0):
        for _ in range(int(timeout / 0.25)):
            if self.proc.poll() is not None:
                pytest.fail(f"the second server stopped:\n{self.log.read_text()[-3000:]}")
            try:
                if (await self("GET", "datashare", "api", "datasets")).code == 200:
                    return
            except OSError:
                pass  # not listening yet
            await asyncio.sleep(0.25)
        pytest.fail(f"the second server did not start:\n{self.log.read_text()[-3000:]}")

    async def job(self, job_id, until=lambda j: j["state"] != "running", timeout=20.0):
        for _ in range(int(timeout / 0.05)):
            r = await self("GET", "datashare", "api", "jobs", job_id)
            assert r.code == 200, (r.code, r.body[:300])
            job = json.loads(r.body)
            if until(job):
                return job
            await asyncio.sleep(0.05)
        raise AssertionError(f"job {job_id} never got there through the second server: {job}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def second_server(tmp_path, ctx, jp_serverapp, server_root):
    server = SecondServer(tmp_path, ctx, jp_serverapp.identity_provider.token, server_root)
    yield server
    server.stop()


async def test_a_job_started_on_one_server_process_is_polled_through_another(call, make_files, second_server):
    make_files({"study/answers.csv": "q1,q2\n3,4\n"})
    body = {"path": "study", "title": "Survey", "access": {"level": "restricted"},
            "committee": {"members": ["bob", {"name": "Dr Ext", "email": "ext@uni.example"}]}}  # fmt: skip
    await second_server.ready()
    _, out = await start(call, "datasets", body=body)
    job_id = out["job"]["id"]
    assert set(out["job"]) >= {"id", "state", "bytes_done", "dataset", "committee_links", "committee_links_note"}

    far = await second_server.job(job_id)
    dataset = far["dataset"]
    assert far["state"] == "done" and far["error"] is None and far["files_done"] == far["files_total"] == 1
    assert dataset == json.loads((await second_server("GET", "datashare", "api", "datasets", dataset["id"])).body)
    # The new member's link is a secret, in the memory of the process that made it only.
    assert far["committee_links"] == [] and "/c/dsc_" not in json.dumps(far)
    note = far["committee_links_note"]
    assert "another server process" in note and f"PATCH datashare/api/datasets/{dataset['id']}" in note
    near = await poll(call, job_id)
    (link,) = near["committee_links"]
    assert link["name"] == "Dr Ext" and near["committee_links_note"] is None
    assert near["dataset"]["id"] == dataset["id"] and near["dataset"]["files"][0]["sha256"] == dataset["files"][0]["sha256"]
    assert (await poll(call, job_id))["committee_links"] == []  # once

    # What the note says works through the second process: the member gets a new link there.
    temp = {"name": "Dr Temp", "email": "temp@uni.example"}
    for members, new in [(["bob", temp], "Dr Temp"), (["bob", temp, {"name": "Dr Ext", "email": "ext@uni.example"}],
                                                      "Dr Ext")]:  # fmt: skip
        r = await second_server("PATCH", "datashare", "api", "datasets", dataset["id"],
                                body={"committee": {"members": members}})  # fmt: skip
        assert r.code == 200, r.body[:300]
        (made,) = json.loads(r.body)["committee_links"]
        assert made["name"] == new and "/datashare/c/dsc_" in made["url"] and made["url"] != link["url"]
    page = await call("GET", *path_of(made["url"]), anon=True)
    assert page.code == 200 and "Dr Ext" in page.body.decode()
    old = await call("GET", *path_of(link["url"]), anon=True)
    assert old.code == 404

    for who, job in [("bob-token", job_id), (None, "job-nope")]:
        r = await second_server("GET", "datashare", "api", "jobs", job, token=who)
        assert r.code == 404 and json.loads(r.body) == {"error": "NotFound", "message": f"no job '{job}'"}
    r = await second_server("DELETE", "datashare", "api", "jobs", job_id, token="bob-token")
    assert r.code == 404
    assert (await second_server("GET", "datashare", "api", "jobs", job_id, token="")).code == 403


@pytest.mark.skipif(not ON_POSTGRES, reason="on SQLite a held write lock stops every writer, the jobs table's too")
async def test_progress_and_cancel_through_another_server_process(call, make_files, ctx, second_server):
    make_files({"first/a.bin": b"a" * (2 * MIB), "first/b.csv": "x\n1\n", "second/c.csv": "c\n1\n"})
    await second_server.ready()
    with database_locked(ctx):  # the audit's lock: the jobs' writes never wait for it
        _, first = await start(call, "datasets", body={"path": "first", "title": "First"})
        frozen = await second_server.job(first["job"]["id"], until=lambda j: j["files_done"] == 2)
        assert frozen["state"] == "running" and frozen["bytes_done"] == frozen["bytes_total"] == 2 * MIB + 4
        _, second = await start(call, "datasets", body={"path": "second", "title": "Second"})  # waits its turn
        r = await second_server("DELETE", "datashare", "api", "jobs", second["job"]["id"])
        assert r.code == 200 and json.loads(r.body)["state"] == "running"
    cancelled = await poll(call, second["job"]["id"])
    assert cancelled["state"] == "failed" and cancelled["error"]["message"] == "cancelled: nothing was shared"
    assert (await second_server.job(first["job"]["id"]))["state"] == "done"
    assert (await second_server.job(second["job"]["id"]))["error"]["status"] == 409
    assert [d["title"] for d in (await call.json("GET", "datashare", "api", "datasets"))["datasets"]] == ["First"]
