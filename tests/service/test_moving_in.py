"""``jupyter datashare push-local``: a local store with datasets at every level, review links, a
committee, a granted request and a long audit log moves into a real service under the caller; the
secrets already sent work at the service's address; both audit chains verify; a failure half-way
leaves both sides as they were."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from jupyter_datashare import cli
from jupyter_datashare.core import datasets, grants, links, move_out, requests
from jupyter_datashare.core.audit import Event
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

from ..conftest import ON_POSTGRES, db_url_for
from .process import REPO, Service

OWNER = "ada"
TABLE = b"site,value\nA,1\nB,2\n" * 500
COHORT = b"id,age\n1,34\n2,51\n" * 300
PURPOSE = ("A replication of the cohort's age analysis for a methods paper, under the stated conditions, "
           "by the two authors named in the application, at their university only.")


class LocalStore:
    """A researcher's store in local mode, with what they shared and sent to people."""

    def __init__(self, base):
        self.root, self.data = base / "work", base / "local-data"
        for name, body in (("open/table.csv", TABLE), ("embargoed/table.csv", TABLE), ("review/table.csv", TABLE),
                           ("cohort/ages.csv", COHORT), ("gone/old.csv", b"x\n")):  # fmt: skip
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_bytes(body)
        self.db_url = db_url_for(self.data)
        core = self.core()
        try:
            share = lambda path, title, **more: datasets.share(core, OWNER, {"path": path, "title": title, **more})  # noqa: E731
            self.open = share("open", "Open table")
            self.embargoed = share("embargoed", "Embargoed table", access={"level": "embargoed", "embargo_until": "2099-01-01"})
            self.review = share("review", "Under review", access={"level": "reviewer-only"})
            made = []
            self.cohort = datasets.share(core, OWNER, {
                "path": "cohort", "title": "Cohort ages", "access": {"level": "restricted"}, "use_conditions": ["HMB"],
                "committee": {"members": ["bob", {"name": "Dr Ext", "email": "ext@example.org"}]}}, committee_links=made)  # fmt: skip
            self.committee_secret = next(secret for _, secret in made if secret)  # Dr Ext's link
            self.gone = share("gone", "Withdrawn")
            datasets.withdraw(core, OWNER, self.gone, "consent withdrawn")
            _, self.review_secret = links.create(core, OWNER, self.review, {"label": "Reviewer 2"})
            _, self.cohort_link = links.create(core, OWNER, self.cohort, {"label": "Editor", "allow_restricted": True})
            req, self.status_secret = requests.submit(core, self.cohort, {
                "name": "Rita", "email": "rita@uni.example", "institution": "U", "purpose": PURPOSE,
                "intended_use": ["HMB"], "accept_agreement": True}, client="test")  # fmt: skip
            bob = _member(core, self.cohort, "bob")
            assert requests.decide(core, req.id, bob, "approve", None)["status"] == "approved"
            self.request_id = req.id
            with core.audit.transaction() as s:  # a long log: years of downloads
                for i in range(3000):
                    core.audit.append(s, Event("file.downloaded", "anonymous", dataset_id=self.open, version=1,
                                               file="table.csv", client=f"10.0.{i // 250}.{i % 250}"))  # fmt: skip
            self.events = core.audit.verify().events
        finally:
            core.close()

    def core(self) -> DataShare:
        return DataShare(Settings(root_dir=str(self.root), data_dir=str(self.data), db_url=self.db_url, owner=OWNER,
                                  owner_identities=(OWNER,)))

    def pack(self, work) -> move_out.Pack:
        core = self.core()
        try:
            return move_out.pack(core, str(work))
        finally:
            core.close()

    def push(self, capsys, service, *more) -> tuple[int, str, str]:
        code = cli.main(["--root-dir", str(self.root), "--data-dir", str(self.data), *(["--db-url", self.db_url] if self.db_url else []),
                         "--owner", OWNER, f"--DataShareApp.service_url=http://127.0.0.1:{service.port}/",
                         f"--DataShareApp.service_token_file={service.token_file}", "push-local", *more])  # fmt: skip
        out, err = capsys.readouterr()
        return code, out, err


def _logged(service, line: str) -> bool:
    """Whether the service's access log has ``line``: it is written just after the answer is sent."""
    import time

    deadline = time.monotonic() + 10
    while line not in service.log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _member(core, dataset_id: str, username: str) -> str:
    from jupyter_datashare.core import committee
    from jupyter_datashare.core.db import reading

    with reading(core.engine) as s:
        return next(m.id for m in committee.active(s, dataset_id) if m.username == username)


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path / "service")
    (s.root / "alice").mkdir()
    s.token_file = tmp_path / "token"
    s.token_file.write_text(s.token("alice"))
    s.start()
    yield s
    s.stop()


def service_state(service) -> dict:
    """What the service holds, as its owner and its disk see it."""
    status, body = service.json("GET", "/api/datasets?withdrawn=1", token=service.token_file.read_text())
    encrypted = service.data / "store" / "encrypted"
    return {"datasets": sorted(d["id"] for d in body["datasets"]),
            "encrypted": sorted(p.name for p in encrypted.iterdir()) if encrypted.exists() else [],
            "uploads": sorted(p.name for p in (service.root / "alice").iterdir())}  # fmt: skip


def verify_service(service) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", str(service.root), "--data-dir",
                           str(service.data), *(["--db-url", service.db_url] if service.db_url else []), "audit", "verify"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)  # fmt: skip


def test_a_local_store_moves_in_whole_and_its_secrets_keep_working(capsys, tmp_path, service):
    local = LocalStore(tmp_path)
    code, out, err = local.push(capsys, service)
    assert code == 0, err
    assert "moved 5 datasets (5 versions, 4 files, 2 review links, 1 access requests, 1 grants)" in out, out
    assert _logged(service, "201 POST /api/moved-stores")

    def get(path: str):
        status, headers, body = service.call("GET", path)
        return status, body

    # Every dataset is alice's now, at every level; the withdrawn one as a tombstone.
    state = service_state(service)
    assert state["datasets"] == sorted([local.open, local.embargoed, local.review, local.cohort, local.gone])
    assert state["uploads"] == []  # the folder sent is gone: its files are in the store
    assert get(f"/d/{local.open}/files/table.csv") == (200, TABLE)
    assert get(f"/d/{local.embargoed}/files/table.csv")[0] == 403
    assert get(f"/d/{local.gone}")[0] == 410
    # The secrets sent from the old server open the same things at the service's address.
    assert get(f"/r/{local.review_secret}/files/table.csv") == (200, TABLE)
    assert get(f"/r/{local.cohort_link}/files/ages.csv") == (200, COHORT)  # encrypted: the key moved
    grant = grants.derive_secret(local.status_secret)
    status, body = get(f"/g/{grant}/files/ages.csv")
    assert status == 200 and hashlib.sha256(body).hexdigest() == hashlib.sha256(COHORT).hexdigest()
    status, _, page = service.call("GET", f"/s/{local.status_secret}", headers={"Accept": "application/json"})
    assert status == 200 and b'"approved"' in page
    status, page = get(f"/c/{local.committee_secret}")
    assert status == 200 and b"Rita" in page
    # The service's copy is encrypted under its own master key, never the plaintext.
    stored = list((service.data / "store" / "encrypted" / local.cohort).iterdir())
    assert stored and all(COHORT[:20] not in p.read_bytes() for p in stored)

    # Both chains verify: the service's (with the old one kept beside it) and the local one.
    done = verify_service(service)
    assert done.returncode == 0, done.stderr
    assert f"of alice: {local.events} old events" in done.stdout
    local_core = local.core()
    try:
        assert local_core.audit.verify().ok
        [moved] = local_core.audit.events(action="store.moved_out")
        assert moved["details"]["old_events"] == local.events
    finally:
        local_core.close()
    status, body = service.json("GET", f"/api/audit?dataset={local.review}", token=service.token_file.read_text())
    events = [e for e in body["events"] if e["action"] == "dataset.moved_in"]
    assert len(events) == 1 and events[0]["details"]["old_head_hash"] == moved["details"]["old_head_hash"]
    status, body = service.json("GET", "/api/moved-stores", token=service.token_file.read_text())
    [store] = body["moved_stores"]
    status, _, lines = service.call("GET", f"/api/moved-stores/{store['id']}/audit",
                                    headers={"Authorization": f"Bearer {service.token_file.read_text()}"})  # fmt: skip
    assert status == 200 and lines.count(b"\n") == local.events

    # Once is enough: a second push is refused, and changes nothing.
    code, out, err = local.push(capsys, service)
    assert code == 2 and "already at the service" in err, err
    assert service_state(service) == state

    # An old event edited at the service is caught: the old chain is checked, not just kept.
    _execute(service.db_url, service.data, "UPDATE moved_audit_events SET actor = 'nobody' WHERE seq = 7")
    done = verify_service(service)
    assert done.returncode == 1 and f"moved store {store['id']} of alice damaged: event #7 does not verify" in done.stderr
    # ... and so is a moved store made to look like one that never finished moving in.
    _execute(service.db_url, service.data, "UPDATE moved_stores SET event_seq = 0")
    done = verify_service(service)
    assert done.returncode == 1 and "is missing or was changed" in done.stderr, done.stderr


def _execute(db_url: str, data_dir, statement: str) -> None:
    """Someone with the database's password changes a row behind the service's back."""
    if ON_POSTGRES:
        from sqlalchemy import create_engine, text

        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()
        return
    with sqlite3.connect(data_dir / "datashare.sqlite") as db:
        db.execute(statement)


def _break_an_event(local: LocalStore) -> None:
    _execute(local.db_url, local.data, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 10")


def _break_an_encrypted_file(local: LocalStore) -> None:
    (path,) = (local.data / "store" / "encrypted" / local.cohort).iterdir()
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[-40] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, message", [
    (_break_an_event, "event #10 does not verify: the old audit chain was altered"),
    (_break_an_encrypted_file, "does not open with its dataset's key"),
])  # fmt: skip
def test_a_failure_half_way_leaves_both_sides_as_they_were(capsys, tmp_path, service, damage, message):
    local = LocalStore(tmp_path)
    before = service_state(service)
    damage(local)
    code, out, err = local.push(capsys, service)
    assert code == 2 and message in err, err
    assert service_state(service) == before  # no dataset, no encrypted file, no folder left
    local_core = local.core()
    try:
        assert local_core.audit.events(action="store.moved_out") == []
        assert len(datasets.list_owned(local_core, OWNER, include_withdrawn=True)) == 5
    finally:
        local_core.close()


def test_the_bundle_holds_hashes_never_secrets(tmp_path):
    local = LocalStore(tmp_path)
    pack = local.pack(tmp_path)
    text = str(pack.bundle)
    for secret in (local.review_secret, local.cohort_link, local.status_secret, local.committee_secret):
        assert secret not in text and hashlib.sha256(secret.encode()).hexdigest() in text
    assert set(pack.keys) == {local.embargoed, local.review, local.cohort}  # live keys only, not the withdrawn one's


def test_a_bundle_is_checked_field_by_field_and_nobody_moves_into_another_s_datasets(capsys, tmp_path, service):
    from jupyter_datashare.client import moving_in
    from jupyter_datashare.client.connection import Service as Client

    local = LocalStore(tmp_path)
    pack = local.pack(tmp_path)
    assert local.push(capsys, service)[0] == 0  # alice's store is in
    cohort_files = sorted((service.data / "store" / "encrypted" / local.cohort).iterdir())

    # carol sends the same files into her own folder, then a bundle claiming alice's datasets.
    (service.root / "carol").mkdir()
    carol_token = service.token("carol")
    carol = Client(f"http://127.0.0.1:{service.port}/", carol_token)
    audit_sha256 = moving_in.send_files(carol, pack, "in")

    def post(bundle, keys=None) -> tuple[int, dict]:
        body = {"folder": "in", "bundle": bundle, "keys": pack.keys if keys is None else keys, "audit_sha256": audit_sha256}
        return service.json("POST", "/api/moved-stores", body=body, token=carol_token)

    status, body = post(pack.bundle)
    assert status == 409 and "already at the service" in body["message"]
    assert sorted((service.data / "store" / "encrypted" / local.cohort).iterdir()) == cohort_files  # untouched
    assert service.call("GET", f"/r/{local.cohort_link}/files/ages.csv")[2] == COHORT
    # Each part of a bundle is checked and a bad one named (fresh ids, so only the part is wrong).
    import copy

    def variant(change) -> dict:
        b = copy.deepcopy(pack.bundle)
        for item in b["datasets"]:
            item["dataset"]["id"] += "x"
        change(b)
        return b

    cases = [
        (lambda b: b["datasets"][0]["dataset"].update(colour="red"), "bundle.datasets[0].dataset.colour"),
        (lambda b: b["datasets"][0]["dataset"].update(access_level="secret"), "bundle.datasets[0].dataset.access_level"),
        (lambda b: b["datasets"][0]["versions"][0].update(number=2), "bundle.datasets[0].versions[0].number"),
        (lambda b: b.update(format="something else"), "bundle.format"),
        (lambda b: b["audit"].update(head_hash="0" * 64), move_out.AUDIT_FILE),
        (lambda b: b["audit"].pop("public_key"), "bundle.audit.public_key"),
        (lambda b: b.update(datasets=[]), "bundle.datasets"),
        # A file listed as damaged, so never sent: it would keep someone else's blob alive.
        (lambda b: b["datasets"][0]["versions"][0]["files"][0].update(damaged_at="2026-01-01T00:00:00+00:00",
                                                                      stored=None),
         "bundle.datasets[0].versions[0].files[0].stored"),
        # Only a withdrawal destroys a key: a dataset in use would be stored in clear.
        (lambda b: b["datasets"][1]["key"].update(destroyed_at="2026-01-01T00:00:00+00:00"),
         "bundle.datasets[1].key.destroyed_at"),
        # carol in bob's seat: the owner never decides, not even through a bundle.
        (lambda b: next(m for m in b["datasets"][3]["committee"] if m["username"] == "bob").update(username="carol"),
         "bundle.datasets[3].requests[0].decisions[0].member_id"),
        (lambda b: b["datasets"][3]["requests"][0].update(name="x" * 301), "bundle.datasets[3].requests[0].name"),
        # What bob's inbox reads (he sits on the committee) must be as a request records it.
        (lambda b: b["datasets"][3]["requests"][0].update(intended_use=5), "bundle.datasets[3].requests[0].intended_use"),
        (lambda b: b["datasets"][0]["dataset"].update(creators="Ada"), "bundle.datasets[0].dataset.creators"),
        (lambda b: b["datasets"][3]["dataset"].update(use_conditions=["XYZ"]), "bundle.datasets[3].dataset.use_conditions[0]"),
        (lambda b: b["datasets"][0]["versions"][0]["files"][0].update(path="../table.csv"),
         "bundle.datasets[0].versions[0].files[0].path"),
    ]  # fmt: skip
    for change, field in cases:
        status, body = post(variant(change), keys={k + "x": v for k, v in pack.keys.items()})
        assert status == 400 and body["field"] == field, (field, body)
    status, body = post(variant(lambda b: None), keys={})
    assert status == 400 and body["field"] == f"keys.{local.embargoed}x", body  # a dataset not open needs its key
    # A move of the same datasets under way elsewhere has claimed their folder in the store.
    claimed = service.data / "store" / "encrypted" / f"{local.review}x"
    claimed.mkdir()
    (claimed / "theirs").write_bytes(b"someone else's file")
    status, body = post(variant(lambda b: None), keys={k + "x": v for k, v in pack.keys.items()})
    assert status == 409 and "is being moved in" in body["message"], body
    assert (claimed / "theirs").read_bytes() == b"someone else's file"  # never removed by the failed move
    status, body = service.json("GET", "/api/datasets", token=carol_token)
    assert body["datasets"] == []
    status, body = service.json("GET", "/api/moved-stores", token=carol_token)
    assert body["moved_stores"] == []  # nothing half-kept of the failed moves
    # Clashes count like failed look-ups of secrets: a bundle is no fast way to test guessed hashes.
    statuses = [post(pack.bundle)[0] for _ in range(12)]
    assert statuses[0] == 409 and statuses[-1] == 429, statuses


def test_a_move_that_died_half_way_is_taken_over_by_the_next(tmp_path, service):
    """A crash mid-move leaves a claimed folder in the store and a chain kept half-way; the owner's
    next move, an hour later, takes both over instead of being refused for ever."""
    import os
    import time

    from jupyter_datashare.client import moving_in
    from jupyter_datashare.client.connection import Service as Client

    local = LocalStore(tmp_path)
    pack = local.pack(tmp_path)
    token = service.token_file.read_text()
    alice = Client(f"http://127.0.0.1:{service.port}/", token)
    audit_sha256 = moving_in.send_files(alice, pack, "again")
    dead = service.data / "store" / "encrypted" / local.cohort
    dead.mkdir(parents=True)
    (dead / "half-copied").write_bytes(b"left by a crash")
    body = {"folder": "again", "bundle": pack.bundle, "keys": pack.keys, "audit_sha256": audit_sha256}
    status, answer = service.json("POST", "/api/moved-stores", body=body, token=token)
    assert status == 409 and "is being moved in" in answer["message"]  # young: maybe still under way
    hour_ago = time.time() - 3700
    os.utime(dead, (hour_ago, hour_ago))
    core = service.core()  # and the chain that crashed move had kept, an hour ago
    try:
        from datetime import timedelta

        from jupyter_datashare.core import old_chains
        from jupyter_datashare.core.models import MovedStore

        old_chains.keep(core, MovedStore(id="mv-crashed", owner="alice", moved_at=core.now() - timedelta(hours=2),
                                         event_seq=0, old_size=1, old_head_hash="a" * 64, old_public_key="b" * 64,
                                         datasets=[]), [])  # fmt: skip
    finally:
        core.close()
    status, answer = service.json("POST", "/api/moved-stores", body=body, token=token)
    assert status == 201, answer
    assert not (dead / "half-copied").exists()
    core = service.core()
    try:
        assert not old_chains.recorded(core, "mv-crashed")
        from jupyter_datashare.core.db import reading

        with reading(core.engine) as s:
            assert s.get(MovedStore, "mv-crashed") is None  # forgotten
    finally:
        core.close()
    assert service.call("GET", f"/r/{local.cohort_link}/files/ages.csv")[2] == COHORT
