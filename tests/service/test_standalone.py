"""The standalone service (``jupyter datashare serve``) as a real process: its callers are known
by personal API token only, the owner of what they share is the token's user, and its links live
at its own address, with no Jupyter server anywhere."""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest

from jupyter_datashare.core import api_tokens

from .process import Service


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path, "--DataShareApp.owner=alice")  # a configured owner must count for nothing
    (s.root / "alice" / "study").mkdir(parents=True)  # each user shares from their own folder
    (s.root / "alice" / "study" / "table.csv").write_bytes(b"site,value\nA,10\nB,20\n")
    (s.root / "carol").mkdir()
    (s.root / "carol" / "notes.txt").write_text("carol's own")
    yield s
    s.stop()


def test_links_live_at_the_service_and_every_caller_owns_only_their_own(service):
    alice, carol = service.token("alice"), service.token("carol")
    service.start()
    for token in (None, "dsa_" + "A" * 43, alice[:-1]):
        status, body = service.json("GET", "/api/datasets", token=token)
        assert status == 401 and "API token" in body["message"]

    status, ds = service.json("POST", "/api/datasets", token=alice,
                              body={"path": "study", "title": "Field study", "access": {"level": "reviewer-only"}})  # fmt: skip
    assert status in (200, 201) and ds["owner"] == "alice", ds
    status, link = service.json("POST", f"/api/datasets/{ds['id']}/links", token=alice, body={"label": "Reviewer 1"})
    assert status in (200, 201)
    secret = re.fullmatch(rf"http://127\.0\.0\.1:{service.port}/r/(dsr_[A-Za-z0-9_-]{{43}})", link["url"]).group(1)

    # A reviewer without any account: the page and the exact bytes, straight from the service.
    status, headers, page = service.call("GET", f"/r/{secret}")
    assert status == 200 and b"Field study" in page and headers["Cache-Control"] == "no-store"
    status, _, data = service.call("GET", f"/r/{secret}/files/table.csv")
    assert status == 200 and data == b"site,value\nA,10\nB,20\n"

    # carol (the service was configured with owner=alice) sees and touches nothing of alice's:
    # not her datasets, not her folder, not the service's root.
    for path in ("../alice/study", "alice/study", "study", "."):
        status, body = service.json("POST", "/api/datasets", token=carol, body={"path": path, "title": "Taken"})
        assert status == 400 and body["field"] == "path", (path, body)
    status, mine = service.json("POST", "/api/datasets", token=carol, body={"path": "notes.txt", "title": "Mine"})
    assert status in (200, 201) and mine["owner"] == "carol" and [f["path"] for f in mine["files"]] == ["notes.txt"]
    status, listed = service.json("GET", "/api/datasets", token=carol)
    assert status == 200 and [d["id"] for d in listed["datasets"]] == [mine["id"]]
    assert service.json("POST", f"/api/datasets/{ds['id']}/links", token=carol, body={})[0] == 404
    assert service.json("GET", f"/api/datasets/{ds['id']}", token=carol)[0] == 404
    status, _, _ = service.call("GET", f"/api/datasets/{ds['id']}/files/table.csv", token=carol)
    assert status == 404

    # Each reads the audit events of their own datasets only, in pages and in exports.
    status, theirs = service.json("GET", "/api/audit?limit=1000", token=carol)
    assert status == 200 and theirs["events"] and {e["dataset_id"] for e in theirs["events"]} == {mine["id"]}
    status, hers = service.json("GET", "/api/audit?limit=1000", token=alice)
    assert {e["dataset_id"] for e in hers["events"]} == {ds["id"]}
    assert {"dataset.shared", "link.created", "file.downloaded"} <= {e["action"] for e in hers["events"]}
    assert service.json("GET", f"/api/audit?dataset={ds['id']}", token=carol)[0] == 404
    status, _, export = service.call("GET", "/api/audit?format=jsonl", token=carol)
    assert status == 200 and {json.loads(line)["dataset_id"] for line in export.splitlines()} == {mine["id"]}

    # An unknown link is a 404 whose secret never reaches the log.
    bogus = "dsr_" + "Q" * 43
    assert service.call("GET", f"/r/{bogus}")[0] == 404
    service.stop()
    log = service.log.read_text()
    assert bogus not in log and secret not in log and "dsr_[redacted]" in log

    core = service.core()
    try:
        events = core.audit.events()
        shared = next(e for e in events if e["action"] == "dataset.shared")
        downloaded = next(e for e in events if e["action"] == "file.downloaded")
        assert shared["actor"] == "alice" and downloaded["actor"] == f"link:{link['id']}"
        assert core.audit.verify().ok
    finally:
        core.close()


def test_a_revoked_token_opens_nothing_at_once(service):
    alice = service.token("alice")
    service.start()
    assert service.json("GET", "/api/datasets", token=alice)[0] == 200
    core = service.core()
    try:
        token_id = api_tokens.listing(core, "alice")[0]["id"]
        api_tokens.revoke(core, "admin:test", token_id)  # from another process, as the CLI would
    finally:
        core.close()
    assert service.json("GET", "/api/datasets", token=alice)[0] == 401


def test_a_form_post_without_a_token_still_needs_its_xsrf_field(service):
    """Only a request that carries an API token skips XSRF; a browser's form post does not."""
    service.start()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, page = service.call("POST", "/d/ds-nope/request", headers=form)
    assert status == 403 and b"_xsrf" in page
    # With the field matching its cookie the post goes on, to the dataset that does not exist.
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    conn.request("POST", "/d/ds-nope/request", body="_xsrf=0123456789abcdef&name=x",
                 headers=form | {"Cookie": "_xsrf=0123456789abcdef"})  # fmt: skip
    assert conn.getresponse().status == 404
    conn.close()


def test_a_committee_member_decides_with_their_own_token_and_the_requester_downloads(service):
    """Restricted data at the service: the requester uses the public form (XSRF and all), bob (a
    committee member, not the owner) decides with his own token, the grant serves the bytes."""
    alice, bob, carol = service.token("alice"), service.token("bob"), service.token("carol")
    service.start()
    status, ds = service.json("POST", "/api/datasets", token=alice, body={
        "path": "study", "title": "Interviews", "access": {"level": "restricted"}, "use_conditions": ["HMB"],
        "agreement": "Do not re-identify anyone.", "committee": {"members": ["bob"], "required_approvals": 1}})  # fmt: skip
    assert status in (200, 201), ds

    status, headers, page = service.call("GET", f"/d/{ds['id']}")
    assert status == 200 and b'name="_xsrf"' in page
    xsrf = re.search(r"_xsrf=([^;]+)", headers["Set-Cookie"]).group(1)
    request = {"name": "Rosalind Example", "email": "rosalind@uni.example", "institution": "Example University",
               "purpose": "Replicate the published analysis of interview lengths across the two sites, "
                          "then compare it with our own cohort under the same agreement.", "intended_use": ["HMB"],
               "accept_agreement": True, "requested_days": 30}  # fmt: skip
    status, _, body = service.call("POST", f"/d/{ds['id']}/request", body=request, headers={
        "Cookie": f"_xsrf={xsrf}", "X-XSRFToken": xsrf, "Content-Type": "application/json", "Accept": "application/json"})
    assert status == 201, body
    status_url = json.loads(body)["status_url"]
    assert status_url.startswith(f"http://127.0.0.1:{service.port}/s/dss_")

    assert service.json("GET", "/api/requests", token=carol) == (200, {"requests": [], "next": None})  # not on the committee
    status, inbox = service.json("GET", "/api/requests", token=bob)
    assert status == 200 and [r["dataset_id"] for r in inbox["requests"]] == [ds["id"]]
    req = inbox["requests"][0]
    assert service.json("POST", f"/api/requests/{req['id']}/decision", token=alice, body={"decision": "approve"})[0] == 404
    status, decided = service.json("POST", f"/api/requests/{req['id']}/decision", token=bob, body={"decision": "approve"})
    assert status == 200 and decided["status"] == "approved", decided

    status, _, body = service.call("GET", status_url.removeprefix(f"http://127.0.0.1:{service.port}"),
                                   headers={"Accept": "application/json"})  # fmt: skip
    approved = json.loads(body)
    assert status == 200 and approved["status"] == "approved"
    url = next(f["url"] for f in approved["files"] if f["path"] == "table.csv")
    status, _, data = service.call("GET", url.removeprefix(f"http://127.0.0.1:{service.port}"))
    assert status == 200 and data == b"site,value\nA,10\nB,20\n"
    core = service.core()
    try:
        actions = [e["action"] for e in core.audit.events()]
        assert {"request.submitted", "decision.recorded", "grant.issued", "grant.used"} <= set(actions)
        decision = next(e for e in core.audit.events() if e["action"] == "decision.recorded")
        assert decision["actor"] == "bob" and core.audit.verify().ok
    finally:
        core.close()


def test_under_a_hub_s_path_with_its_public_address(tmp_path):
    """Behind JupyterHub's proxy the service lives at /services/datashare/ and its links carry the
    hub's public address, exactly."""
    service = Service(tmp_path, "--service-base-url", "/services/datashare/",
                      "--DataShareApp.public_base_url=https://hub.example.org/services/datashare/")  # fmt: skip
    (service.root / "alice" / "study").mkdir(parents=True)
    (service.root / "alice" / "study" / "t.csv").write_text("a\n1\n")
    alice = service.token("alice")
    service.start()
    try:
        assert service.call("GET", "/api/datasets", token=alice)[0] == 404  # nothing outside its path
        status, ds = service.json("POST", "/services/datashare/api/datasets", token=alice,
                                  body={"path": "study", "title": "T", "access": {"level": "reviewer-only"}})  # fmt: skip
        assert status in (200, 201), ds
        status, link = service.json("POST", f"/services/datashare/api/datasets/{ds['id']}/links", token=alice, body={})
        secret = re.fullmatch(r"https://hub\.example\.org/services/datashare/r/(dsr_[A-Za-z0-9_-]{43})", link["url"]).group(1)
        status, _, data = service.call("GET", f"/services/datashare/r/{secret}/files/t.csv")
        assert status == 200 and data == b"a\n1\n"
    finally:
        service.stop()


def test_what_a_token_holder_may_not_learn_or_do(service):
    alice, carol = service.token("alice"), service.token("carol")
    service.start()
    # Background shares belong to their starter (the token's user), as on a Jupyter server.
    status, headers, _ = service.call("POST", "/api/datasets?async=1", token=alice, body={"path": "study", "title": "Later"})
    assert status == 202, status
    job = headers["Location"]
    assert job.startswith("/api/jobs/job-")
    for _ in range(100):
        status, state = service.json("GET", job, token=alice)
        if state["state"] != "running":
            break
        time.sleep(0.1)
    assert state["state"] == "done", state
    assert service.json("GET", job, token=carol)[0] == 404
    status, link = service.json("POST", f"/api/datasets/{state['dataset']['id']}/links", token=alice, body={})
    assert service.call("POST", f"/api/datasets/{state['dataset']['id']}/links", token=alice, body={})[1][
        "Cache-Control"] == "no-store"  # API answers hold secrets: never cached  # fmt: skip

    # Another's link or request answers as an unknown one, naming nothing of it.
    for method in ("GET", "DELETE"):
        status, body = service.json(method, f"/api/links/{link['id']}", token=carol)
        assert status == 404 and body["message"] == f"no review link '{link['id']}'", body
    # The whole log is the administrator's.
    assert service.json("GET", "/api/audit/verify", token=carol)[0] == 403
    assert service.json("POST", "/api/audit/checkpoint", token=carol, body={})[0] == 403
    # A made-up token in the header skips no XSRF check.
    status, _, _ = service.call("POST", f"/d/{state['dataset']['id']}/request", body={"name": "x"},
                                headers={"Authorization": "Bearer dsa_bogus", "Content-Type": "application/json"})  # fmt: skip
    assert status == 403
    # A secret mangled on the way is still no log line's.
    mangled = "dsr-" + link["url"].rsplit("dsr_", 1)[1]
    assert service.call("GET", f"/r/{mangled}")[0] == 404
    service.stop()
    log = service.log.read_text()
    assert mangled not in log and mangled[4:] not in log


def test_a_data_steward_reads_and_verifies_the_whole_log(tmp_path):
    s = Service(tmp_path, "--DataShareApp.data_stewards=dana")
    (s.root / "alice" / "study").mkdir(parents=True)
    (s.root / "alice" / "study" / "t.csv").write_text("a\n1\n")
    alice, dana, carol = s.token("alice"), s.token("dana"), s.token("carol")
    s.start()
    try:
        status, ds = s.json("POST", "/api/datasets", token=alice, body={"path": "study", "title": "T"})
        assert status == 201
        status, log = s.json("GET", "/api/audit?limit=1000", token=dana)
        assert status == 200 and ds["id"] in {e["dataset_id"] for e in log["events"]}  # another's dataset
        status, verdict = s.json("GET", "/api/audit/verify", token=dana)
        assert status == 200 and verdict["ok"], verdict
        status, log = s.json("GET", "/api/audit?limit=1000", token=carol)  # not a steward: her own only
        assert status == 200 and ds["id"] not in {e["dataset_id"] for e in log["events"]}
        assert s.json("GET", "/api/audit/verify", token=carol)[0] == 403
    finally:
        s.stop()


def test_two_service_processes_on_one_database_answer_as_one(tmp_path):
    """The service behind a load balancer: what one process starts or makes, the other answers for."""
    a, b = Service(tmp_path), Service(tmp_path)
    b.log = tmp_path / "service-b.log"
    (a.root / "alice" / "study").mkdir(parents=True)
    (a.root / "alice" / "study" / "t.csv").write_bytes(b"a,b\n1,2\n")
    core = a.core()
    try:
        row, alice = api_tokens.issue(core, "admin:test", "alice")
    finally:
        core.close()
    a.start()  # alone first: it makes (or upgrades) the schema
    b.start()
    try:
        status, started = a.json("POST", "/api/datasets?async=1", token=alice,
                                 body={"path": "study", "title": "T", "access": {"level": "reviewer-only"}})  # fmt: skip
        assert status == 202, started
        for _ in range(300):  # followed through the other process
            status, job = b.json("GET", f"/api/jobs/{started['job']['id']}", token=alice)
            if job["state"] != "running":
                break
            time.sleep(0.1)
        assert status == 200 and job["state"] == "done", job
        dataset_id = job["dataset"]["id"]
        status, link = a.json("POST", f"/api/datasets/{dataset_id}/links", token=alice, body={})
        secret = link["url"].rsplit("/r/", 1)[1]
        status, _, data = b.call("GET", f"/r/{secret}/files/t.csv")  # made by one, served by the other
        assert status == 200 and data == b"a,b\n1,2\n"
        core = a.core()
        try:
            api_tokens.revoke(core, "admin:test", row["id"])
            assert core.audit.verify().ok  # one chain, whoever wrote
        finally:
            core.close()
        for s in (a, b):
            assert s.json("GET", "/api/datasets", token=alice)[0] == 401  # revoked for both at once
    finally:
        a.stop()
        b.stop()
