"""JupyterHub end to end, every part real: jupyterhub, configurable-http-proxy, DummyAuthenticator,
SimpleLocalProcessSpawner, the datashare service managed by the hub from the shipped
deploy/jupyterhub_config.py (PostgreSQL when the suite runs on it), user servers in client mode.

alice shares a reviewer-only and a restricted dataset (committee: hub user bob; another with the hub
group dac that bob is in) and makes a review link; her server is stopped through the hub's API and
stays stopped; a reviewer downloads the exact bytes; a requester asks for access; bob decides from
his own server's panel API, and in Chromium from the service's inbox after a hub login; the
requester downloads through the grant. carol, whose own config says owner = alice, gets nothing of alice's.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from .hub import PASSWORD, Hub, find_proxy, pids_with_env

pytestmark = pytest.mark.skipif(find_proxy() is None, reason="configurable-http-proxy is not installed (npm)")

TABLE = b"site,value\nA,10\nB,20\n"
COHORT = b"id,age\n1,40\n2,51\n"
PURPOSE = ("We study the progression of the condition in adults and need the ages to compare the cohorts "
           "fairly, in one analysis, for one paper.")


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path, groups={"dac": ["bob"]},
            user_config={"carol": {"DataShareApp": {"owner": "alice", "owner_identities": ["alice", "carol"]}}})  # fmt: skip
    try:
        h.start()
        h.add_users("alice", "bob", "carol")
        yield h
    finally:
        h.stop()


def as_user(hub: Hub, user: str) -> httpx.Client:
    """A script of ``user`` calling their own server through the proxy, with a token of theirs."""
    return httpx.Client(base_url=f"{hub.url}user/{user}/datashare/api/", timeout=120,
                        headers={"Authorization": f"token {hub.token_for(user)}"})  # fmt: skip


def browse_inbox(service: str, user: str, request_id: str, reason: str, shots) -> dict:
    """tests/service/inbox_browser.js in Chromium: hub login, the inbox, a denial confirmed."""
    args = {"url": service, "user": user, "password": PASSWORD, "request": request_id, "reason": reason,
            "shots": str(shots)}  # fmt: skip
    done = subprocess.run(["node", str(Path(__file__).with_name("inbox_browser.js")), json.dumps(args)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_links_and_decisions_outlive_the_owner_s_server(hub):
    for user in ("alice", "bob", "carol"):
        hub.start_server(user)
    (hub.homes / "alice" / "study").mkdir()
    (hub.homes / "alice" / "study" / "table.csv").write_bytes(TABLE)
    (hub.homes / "alice" / "cohort").mkdir()
    (hub.homes / "alice" / "cohort" / "ages.csv").write_bytes(COHORT)
    service = f"{hub.url}services/datashare/"

    alice = as_user(hub, "alice")
    r = alice.post("datasets", json={"path": "study", "title": "Field study", "access": {"level": "reviewer-only"}})
    assert r.status_code == 201, r.text
    study = r.json()
    assert study["owner"] == "alice"  # the hub user of the server's token, as the service knows it
    r = alice.post("datasets", json={"path": "cohort", "title": "Cohort ages", "access": {"level": "restricted"},
                                     "committee": {"members": ["bob"]}, "use_conditions": ["HMB"]})  # fmt: skip
    assert r.status_code == 201, r.text
    cohort = r.json()
    r = alice.post("datasets", json={"path": "cohort", "title": "Cohort ages (group)", "access": {"level": "restricted"},
                                     "committee": {"members": ["group:dac"]}, "use_conditions": ["HMB"]})  # fmt: skip
    assert r.status_code == 201, r.text
    by_group = r.json()  # its committee is a hub group: any of its members holds the seat
    r = alice.post(f"datasets/{study['id']}/links", json={"label": "Reviewer 1"})
    assert r.status_code == 201, r.text
    link = r.json()["url"]
    assert re.fullmatch(re.escape(service) + r"r/dsr_[A-Za-z0-9_-]{43}", link)

    # The user servers hold no database URL, no key; the token of their own only.
    db_secret = hub.db_url.split("@")[0].encode() if "@" in hub.db_url else hub.db_url.encode()
    servers = pids_with_env(b"JUPYTERHUB_SERVICE_PREFIX=/user/")
    assert len(servers) >= 3
    for pid in servers:
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        for secret in (db_secret, b"DATASHARE_DB_URL_FILE", b"MASTER_KEY", b"SIGNING_KEY"):
            assert secret not in environ and secret not in cmdline, (pid, secret)

    hub.stop_server("alice")

    # A reviewer with no account, later: the exact bytes, from the service through the proxy.
    anonymous = httpx.Client(timeout=60)
    r = anonymous.get(link + "/files/table.csv")
    assert r.status_code == 200 and r.content == TABLE and r.headers["Cache-Control"] == "no-store"

    # A requester asks for the restricted data through its public form (XSRF cookie first).
    requester = httpx.Client(timeout=60)

    def ask(dataset_id: str) -> tuple[str, str]:
        page = requester.get(f"{service}d/{dataset_id}")
        assert page.status_code == 200, page.text
        r = requester.post(f"{service}d/{dataset_id}/request", headers={"X-XSRFToken": requester.cookies["_xsrf"],
                           "Accept": "application/json"}, json={"name": "Rita Requester", "email": "rita@uni.example",
                           "institution": "Example University", "purpose": PURPOSE, "intended_use": ["HMB"],
                           "accept_agreement": True})  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["status_url"].startswith(service + "s/")
        return r.json()["status_url"], r.json()["request_id"]

    status_url, request_id = ask(cohort["id"])
    _, group_request = ask(by_group["id"])

    # bob decides from his own server's panel API: the service knows him by his server's token,
    # and his hub groups (the dac group's seat is his too).
    bob = as_user(hub, "bob")
    pending = bob.get("requests", params={"status": "pending"}).json()["requests"]
    assert sorted(p["id"] for p in pending) == sorted([request_id, group_request])
    assert all(p["you_may_decide"] for p in pending)
    r = bob.post(f"requests/{request_id}/decision", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    # ... and from the service's inbox page in Chromium, after logging in through the hub.
    shots = hub.base / "screenshots"
    shots.mkdir()
    seen = browse_inbox(service, "bob", group_request, "Not the consented use.", shots)
    assert seen.get("error") is None, seen
    assert seen["signedIn"] == "Signed in as bob." and seen["question"] == f"Deny request {group_request}?"
    assert seen["notice"] == f"Your decision on {group_request} was recorded; the request is denied."
    assert seen["phoneScrollWidth"] <= 390  # the page fits a phone
    decided = bob.get(f"requests/{group_request}").json()
    assert decided["status"] == "denied" and decided["reason"] == "Not the consented use."
    assert bob.get("datasets").json()["datasets"] == []  # a committee member owns nothing of it

    # The requester's status page hands out the grant; its download works, alice's server still down.
    status = requester.get(status_url, headers={"Accept": "application/json"}).json()
    assert status["status"] == "approved"
    (f,) = status["files"]
    r = requester.get(f["url"] if f["url"].startswith("http") else hub.url.rstrip("/") + f["url"])
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == hashlib.sha256(COHORT).hexdigest()
    model = hub.api("GET", "users/alice").json()
    assert not (model.get("servers") or {}).get("")  # stopped throughout

    # carol's own config says she is alice: it counts for nothing at the service.
    carol = as_user(hub, "carol")
    assert carol.get("datasets").json()["datasets"] == []
    for path in (f"datasets/{study['id']}", f"datasets/{cohort['id']}/files/ages.csv", f"datasets/{cohort['id']}/links"):
        assert carol.get(path).status_code == 404, path
    assert carol.get("requests").json()["requests"] == []
    r = carol.post(f"requests/{request_id}/decision", json={"decision": "deny", "reason": "mine"})
    assert r.status_code == 404

    # Nothing a log reader could use: not the review link's secret, not the hub's one-time login code.
    text = hub.log(whole=True)
    assert "oauth_callback?code=[redacted]&state=[redacted]" in text  # the service's access log is in it
    assert link.rsplit("/", 1)[-1] not in text
    assert not re.search(r"code=(?!\[(redacted|secret)\])", text)  # the hub writes [secret] in its own lines
