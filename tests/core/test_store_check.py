"""The store check: damaged files are found, named, recorded and never served; crash leftovers
are reclaimed without touching anything a dataset or a running share still uses."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jupyter_datashare.core import datasets, keyring, policy, reads, store_check
from jupyter_datashare.core.errors import DamagedFile
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

from .sharing_process import SharingProcess

OWNER = "ada-owner"
DAY = 24 * 3600
RESTRICTED = {"level": "restricted"}
COMMITTEE = {"members": [{"username": "bob"}]}


def put(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def share(core, root, folder, files, restricted=False):
    put(root, {f"{folder}/{k}": v for k, v in files.items()})
    body = {"path": folder, "title": folder}
    if restricted:
        body |= {"access": RESTRICTED, "committee": COMMITTEE}
    return datasets.share(core, OWNER, body)


def read(core, ds_id, path, principal=None):
    ds = datasets.load(core, ds_id)
    return b"".join(reads.open_file(core, ds, principal or policy.Principal("owner", OWNER), path).chunks())


def flip(path: Path, at: int = 3) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def sha_of(core, ds_id, path):
    _, rows = datasets.version_files(core, ds_id, 1)
    return next(r.sha256 for r in rows if r.path == path)


def events(core, action):
    return core.audit.events(action=action)


def backdate(*paths: Path, seconds: float = 2 * DAY) -> None:
    """Make files look as old as a crash long ago left them."""
    then = time.time() - seconds
    for top in paths:
        for p in [top, *top.rglob("*")] if top.is_dir() else [top]:
            os.utime(p, (then, then), follow_symlinks=False)


# -- damaged files ------------------------------------------------------------------------------


def test_a_flipped_byte_in_an_open_file_is_named_recorded_and_never_served(core, server_root):
    ds = share(core, server_root, "open", {"table.csv": b"id,value\n1,10\n2,20\n", "readme.txt": b"about\n"})
    flip(core.store.path(sha_of(core, ds, "table.csv")))
    public = policy.Principal("public", "anonymous")

    report = store_check.check(core)
    assert not report.ok and report.files == 2
    [d] = report.damaged
    assert (d.dataset_id, d.version, d.path, d.new) == (ds, 1, "table.csv", True) and "hash" in d.problem
    [event] = events(core, "file.corrupt")
    assert (event["dataset_id"], event["version"], event["file"]) == (ds, 1, "table.csv")
    with pytest.raises(DamagedFile, match="damaged"):
        reads.open_file(core, datasets.load(core, ds), public, "table.csv")
    assert read(core, ds, "readme.txt", public) == b"about\n"  # the intact file still is served
    assert core.audit.verify().ok

    again = store_check.check(core)  # known damage is named again but recorded once
    assert [x.new for x in again.damaged] == [False] and len(events(core, "file.corrupt")) == 1


def test_damage_to_an_encrypted_file_or_a_missing_blob_is_found(core, server_root):
    secret = share(core, server_root, "secret", {"ages.csv": b"subject,age\n" + b"s1,44\n" * 20000}, restricted=True)
    plain = share(core, server_root, "plain", {"a.txt": b"aaaa\n", "b.txt": b"bbbb\n"})
    flip(core.store.path(sha_of(core, secret, "ages.csv"), secret), at=70_000)  # in the second segment
    core.store.path(sha_of(core, plain, "b.txt")).unlink()

    report = store_check.check(core)
    problems = {(d.dataset_id, d.path): d.problem for d in report.damaged}
    assert set(problems) == {(secret, "ages.csv"), (plain, "b.txt")}
    assert "segment 2" in problems[secret, "ages.csv"] and "missing" in problems[plain, "b.txt"]
    with pytest.raises(DamagedFile):
        reads.open_file(core, datasets.load(core, secret), policy.Principal("owner", OWNER), "ages.csv")
    assert read(core, plain, "a.txt") == b"aaaa\n"
    assert core.audit.verify().ok


def test_a_file_restored_from_a_backup_is_served_again(core, server_root):
    ds = share(core, server_root, "open", {"t.csv": b"x,y\n1,2\n"})
    blob = core.store.path(sha_of(core, ds, "t.csv"))
    good = blob.read_bytes()
    flip(blob)
    store_check.check(core)
    blob.write_bytes(good)  # the owner restored it
    report = store_check.check(core)
    assert report.ok and [d.path for d in report.repaired] == ["t.csv"]
    assert read(core, ds, "t.csv") == good and len(events(core, "file.repaired")) == 1


# -- leftovers ----------------------------------------------------------------------------------

CRASHING_SHARE = textwrap.dedent("""
    import os, signal, sys
    from jupyter_datashare.core import datasets
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    root, data, level, db_url = sys.argv[1:5]
    core = DataShare(Settings(root_dir=root, data_dir=data, db_url=db_url, owner="ada-owner", owner_identities=("ada-owner",)))
    seen = [0]

    def progress(n):  # killed like `kill -9`, in the middle of the third file
        seen[0] += n
        if seen[0] > 5 << 20:
            os.kill(os.getpid(), signal.SIGKILL)

    body = {"path": "big", "title": "killed", "access": {"level": level}}
    if level == "restricted":
        body["committee"] = {"members": [{"username": "bob"}]}
    datasets.share(core, "ada-owner", body, progress=progress)
""")


def crash_a_share(core, server_root, level: str) -> None:
    put(server_root, {f"big/f{i}.bin": os.urandom(2 << 20) + level.encode() for i in range(4)})  # two chunks each
    proc = subprocess.run([sys.executable, "-c", CRASHING_SHARE, str(server_root), core.settings.data_dir, level,
                           core.settings.db_url],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -9, proc.stderr


def test_leftovers_of_killed_shares_are_reclaimed_and_nothing_in_use_is_touched(core, server_root):
    keep_open = share(core, server_root, "kept", {"k.csv": b"kept\n"})
    keep_secret = share(core, server_root, "kept-secret", {"s.csv": b"secret\n"}, restricted=True)
    store = core.store
    in_use = {p: p.read_bytes() for p in [*store.blobs.rglob("*"), *store.encrypted.rglob("*")] if p.is_file()}

    crash_a_share(core, server_root, "restricted")
    crash_a_share(core, server_root, "open")
    assert list(store.tmp.iterdir()), "a killed share leaves its temporary file"
    orphans = [d for d in store.encrypted.iterdir() if d.name != keep_secret]
    assert len(orphans) == 1 and len(list(orphans[0].iterdir())) == 2  # two files of a dataset that never was
    assert len([p for p in store.blobs.rglob("*") if p.is_file() and p not in in_use]) == 2  # and two plain ones

    fresh = store_check.reclaim(core)  # at start-up: nothing younger than a day goes
    assert fresh.bytes == 0 and fresh.kept_in_use > 0
    backdate(store.tmp, store.encrypted, store.blobs, store.pins)
    for p in in_use:
        backdate(p)
    found = store_check.reclaim(core)
    assert found.tmp_files == 2 and found.orphan_datasets == 1 and found.unreferenced_files == 2
    assert found.dead_pins == 2 and found.bytes > 8 << 20
    assert list(store.tmp.iterdir()) == [] and [d.name for d in store.encrypted.iterdir()] == [keep_secret]
    assert list(store.pins.iterdir()) == []
    for p, data in in_use.items():
        assert p.read_bytes() == data, p
    assert read(core, keep_open, "k.csv") == b"kept\n" and read(core, keep_secret, "s.csv") == b"secret\n"
    assert events(core, "store.reclaimed")[0]["details"]["orphan_datasets"] == 1
    assert core.audit.verify().ok
    assert store_check.check(core).ok


def test_what_a_running_share_wrote_is_never_reclaimed(core, server_root):
    """A share that runs in another process since long ago holds its pin folder's lock: nothing
    written since it began goes, whatever its age; once it is gone, the same leftovers do."""
    store = core.store
    began = time.time() - 3 * DAY
    pin_dir = store.pins / f"{int(began)}-abcd"
    pin_dir.mkdir()
    from jupyter_datashare.core.store import _lock_dir

    lock = _lock_dir(pin_dir)
    (store.encrypted / "ds-being-frozen").mkdir()
    (store.encrypted / "ds-being-frozen" / ("0" * 64)).write_bytes(b"x" * 100)
    (store.tmp / "tmpabc").write_bytes(b"y" * 100)
    backdate(store.encrypted / "ds-being-frozen", store.tmp / "tmpabc", seconds=2 * DAY)  # after it began
    try:
        found = store_check.reclaim(core, older_than=0)
        assert found.bytes == 0 and found.kept_in_use == 2
        assert (store.tmp / "tmpabc").exists() and (store.encrypted / "ds-being-frozen").exists()
    finally:
        os.close(lock)  # the share's process died
    backdate(pin_dir, seconds=2 * DAY)
    found = store_check.reclaim(core, older_than=0)
    assert (found.tmp_files, found.orphan_datasets, found.dead_pins) == (1, 1, 1)
    assert not (store.encrypted / "ds-being-frozen").exists()


def test_a_share_running_during_a_repair_succeeds(core, server_root):
    """`store check --repair --older-than 0` while a real share is half-way through its freeze."""
    put(server_root, {f"live/f{i}.bin": os.urandom(1 << 20) + bytes([i]) for i in range(3)})
    put(server_root, {f"live2/f{i}.bin": os.urandom(1 << 20) + bytes([i]) for i in range(3)})
    halfway, go_on = threading.Event(), threading.Event()
    made, failed = {}, []

    def progress(n):
        if not halfway.is_set():
            halfway.set()
            go_on.wait(60)

    def run(folder, level):
        try:
            body = {"path": folder, "title": folder, "access": {"level": level}}
            if level == "restricted":
                body["committee"] = COMMITTEE
            made[folder] = datasets.share(core, OWNER, body, progress=progress)
        except Exception as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    for folder, level in (("live", "restricted"), ("live2", "open")):
        halfway.clear()
        go_on.clear()
        t = threading.Thread(target=run, args=(folder, level))
        t.start()
        assert halfway.wait(60)
        report = store_check.check(core, repair=True, older_than=0)
        go_on.set()
        t.join(60)
        assert failed == [] and report.ok
    for folder in ("live", "live2"):
        for i in range(3):
            assert read(core, made[folder], f"f{i}.bin") == (server_root / folder / f"f{i}.bin").read_bytes()
    assert store_check.check(core).ok


def test_reclaim_at_start_runs_when_the_server_core_opens(tmp_path, server_root):
    data = tmp_path / "d"
    core = DataShare(Settings(root_dir=str(server_root), data_dir=str(data), owner=OWNER))
    (core.store.tmp / "tmpold").write_bytes(b"z" * 10)
    backdate(core.store.tmp / "tmpold")
    found = store_check.reclaim_at_start(core)
    core.close()
    assert found.tmp_files == 1 and not (core.store.tmp / "tmpold").exists()


def test_sharing_the_same_file_again_after_damage_stores_a_fresh_copy(core, server_root):
    content = {"t.csv": b"x,y\n1,2\n3,4\n"}
    first = share(core, server_root, "one", content)
    blob = core.store.path(sha_of(core, first, "t.csv"))
    flip(blob)
    assert [d.path for d in store_check.check(core).damaged] == ["t.csv"]
    assert not blob.exists() and (core.store.root / "damaged" / blob.name).exists()  # kept aside, as evidence

    again = share(core, server_root, "three", content)  # the owner shares the intact file again
    assert read(core, again, "t.csv") == content["t.csv"]
    report = store_check.check(core)  # the first dataset's file now has the fresh copy too
    assert [d.path for d in report.repaired] == ["t.csv"] and report.ok
    assert read(core, first, "t.csv") == content["t.csv"]


def test_reclaim_leaves_an_old_file_another_process_s_new_version_just_reused(core, server_root, tmp_path):
    """A version frozen in another process finds its content already stored, left by a version
    that crashed days ago; a reclaim (another process) running meanwhile must not take it."""
    ds_id = share(core, server_root, "sec", {"a.csv": b"a\n1\n"}, restricted=True)
    data_key = keyring.seal(core, ds_id)
    reused, stale = b"z\n" + os.urandom(3000), b"never published\n"
    for name, data in (("reused", reused), ("stale", stale)):  # leftovers of the crashed version
        (tmp_path / name).write_bytes(data)
        core.store.freeze_encrypted(tmp_path / name, ds_id, data_key)
    backdate(core.store.encrypted / ds_id)
    put(server_root, {"sec/z.bin": reused})
    reused_sha = hashlib.sha256(reused).hexdigest()
    other = SharingProcess(core, tmp_path / "signals", {"version_of": ds_id}, stops=[f"frozen {reused_sha}"])
    other.wait_for(f"frozen {reused_sha}")  # found stored: the copy of days ago is what v2 will use
    found = store_check.reclaim(core, older_than=0)
    assert found.unreferenced_files == 1 and core.store.has(reused_sha, ds_id)  # only the stale one went
    other.go(f"frozen {reused_sha}")
    other.finish()
    ds = datasets.load(core, ds_id)
    owner = policy.Principal("owner", OWNER)
    assert b"".join(reads.open_file(core, ds, owner, "z.bin", version=2).chunks()) == reused
    assert store_check.check(core).ok


@pytest.mark.parametrize("level", ["open", "restricted"])
def test_a_repair_in_one_process_leaves_a_share_another_process_is_writing(core, server_root, tmp_path, level):
    big = {f"f{i}.bin": os.urandom(3 << 20) + bytes([i]) for i in range(2)}
    put(server_root, {f"live/{k}": v for k, v in big.items()})
    body = {"path": "live", "title": "Live", "access": {"level": level}}
    if level == "restricted":
        body["committee"] = COMMITTEE
    other = SharingProcess(core, tmp_path / "signals", body, stops=["writing"])
    other.wait_for("writing")  # a temporary file half written, nothing committed
    assert list(core.store.tmp.iterdir())
    report = store_check.check(core, repair=True, older_than=0)  # `datashare store check --repair`
    assert report.ok and report.leftovers.tmp_files == 0 and report.leftovers.kept_in_use >= 1
    other.go("writing")
    other.finish()
    (ds,) = [d for d in datasets.list_owned(core, OWNER) if d.title == "Live"]
    for name, data in big.items():
        assert read(core, ds.id, name) == data
    assert list(core.store.tmp.iterdir()) == [] and store_check.check(core).ok
