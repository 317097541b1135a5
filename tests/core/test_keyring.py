"""Master key, per-dataset data keys, encryption on level changes, and crypto-shredding."""

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from sqlalchemy import select, text

from jupyter_datashare.core import crypto, datasets, keyring, policy, reads
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.errors import InvalidInput
from jupyter_datashare.core.keyring import DatasetKey, KeyUnavailable
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings
from jupyter_datashare.core.store import BlobStore
from tests import rawdb

OWNER = "ada-owner"
OWNER_P = policy.Principal("owner", OWNER)
PAYLOAD = os.urandom(3 * crypto.SEGMENT + 5)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def folder(server_root):
    (server_root / "study").mkdir()
    (server_root / "study" / "big.bin").write_bytes(PAYLOAD)
    (server_root / "study" / "notes.txt").write_text("about")
    return server_root / "study"


def share(core, level="reviewer-only", path="study", **extra) -> str:
    return datasets.share(core, OWNER, {"path": path, "title": "T", "access": {"level": level, **extra}})


def read_all(core, ds_id, path="big.bin", **kw) -> bytes:
    fr = reads.open_file(core, datasets.load(core, ds_id), OWNER_P, path, **kw)
    return b"".join(fr.chunks())


def key_row(core, ds_id) -> DatasetKey | None:
    with reading(core.engine) as s:
        return s.get(DatasetKey, ds_id)


def open_core(tmp_path, server_root, clock, **settings) -> DataShare:
    return DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner=OWNER, **settings), clock)


# -- master key ---------------------------------------------------------------------------------


def test_master_key_file_is_made_on_first_use_owner_only_and_kept(core, folder, tmp_path, server_root, clock):
    master = tmp_path / "data" / keyring.MASTER_KEY_FILE
    share(core, "open")
    assert not master.exists()  # open data needs no key
    ds_id = share(core)
    assert stat.S_IMODE(master.stat().st_mode) == 0o600 and len(master.read_bytes()) == 32
    before = master.read_bytes()
    core.close()
    again = open_core(tmp_path, server_root, clock)
    try:
        assert read_all(again, ds_id) == PAYLOAD and master.read_bytes() == before
    finally:
        again.close()


def test_loose_permissions_on_the_master_key_are_tightened(core, folder, tmp_path, server_root, clock):
    ds_id = share(core)
    core.close()
    master = tmp_path / "data" / keyring.MASTER_KEY_FILE
    os.chmod(master, 0o644)
    again = open_core(tmp_path, server_root, clock)
    try:
        assert read_all(again, ds_id) == PAYLOAD
        assert stat.S_IMODE(master.stat().st_mode) == 0o600
    finally:
        again.close()


def test_a_missing_master_key_file_is_an_error_not_a_new_key(core, folder, tmp_path, server_root, clock):
    ds_id = share(core)
    core.close()
    master = tmp_path / "data" / keyring.MASTER_KEY_FILE
    master.unlink()
    again = open_core(tmp_path, server_root, clock)
    try:
        with pytest.raises(KeyUnavailable, match="master key file .* is missing"):
            read_all(again, ds_id)
        with pytest.raises(KeyUnavailable):  # nor does sharing make a new one that orphans the old keys
            share(again)
        assert not master.exists()
    finally:
        again.close()


def test_configured_master_key_wraps_the_data_keys_and_no_file_is_made(tmp_path, server_root, clock, folder):
    configured = base64.b64encode(os.urandom(32)).decode()
    core = open_core(tmp_path, server_root, clock, master_key=configured)
    try:
        ds_id = share(core)
        assert not (tmp_path / "data" / keyring.MASTER_KEY_FILE).exists()
        row = key_row(core, ds_id)
        data_key = aes_key_unwrap(base64.b64decode(configured), row.wrapped_key)
        assert len(data_key) == 32 and data_key not in row.wrapped_key
        assert read_all(core, ds_id) == PAYLOAD
    finally:
        core.close()
    wrong = open_core(tmp_path, server_root, clock, master_key=base64.b64encode(os.urandom(32)).decode())
    try:
        with pytest.raises(KeyUnavailable, match="wrapped by master key [0-9a-f]{16}, but the master key in use is"):
            read_all(wrong, ds_id)
    finally:
        wrong.close()


def test_a_master_key_file_away_from_the_data_is_made_there_and_a_copy_of_the_data_reads_nothing(
        tmp_path, server_root, clock, folder):  # fmt: skip
    keys = tmp_path / "secrets"
    keys.mkdir()
    core = open_core(tmp_path, server_root, clock, master_key_file=str(keys / "datashare.key"))
    try:
        ds_id = share(core)
        assert read_all(core, ds_id) == PAYLOAD
    finally:
        core.close()
    assert stat.S_IMODE((keys / "datashare.key").stat().st_mode) == 0o600
    assert not (tmp_path / "data" / keyring.MASTER_KEY_FILE).exists()
    copy = open_core(tmp_path, server_root, clock)  # the data directory without the key file
    try:
        with pytest.raises(KeyUnavailable, match="is missing"):
            read_all(copy, ds_id)
    finally:
        copy.close()


def test_a_mounted_secret_holding_the_key_in_base64_is_read_from_the_environment(
        tmp_path, server_root, clock, folder, monkeypatch):  # fmt: skip
    secret = tmp_path / "mounted-secret"
    key = os.urandom(32)
    secret.write_text(base64.b64encode(key).decode() + "\n")
    monkeypatch.setenv("JUPYTER_DATASHARE_MASTER_KEY_FILE", str(secret))
    core = open_core(tmp_path, server_root, clock)
    try:
        ds_id = share(core)
        assert aes_key_unwrap(key, key_row(core, ds_id).wrapped_key) and read_all(core, ds_id) == PAYLOAD
    finally:
        core.close()
    secret.write_text("not a key")
    broken = open_core(tmp_path, server_root, clock)
    try:
        with pytest.raises(KeyUnavailable, match="mounted-secret is not a master key"):
            read_all(broken, ds_id)
    finally:
        broken.close()


@pytest.mark.parametrize("value", ["short", base64.b64encode(os.urandom(16)).decode(), "not base64 !!"])
def test_a_bad_configured_master_key_is_refused_naming_the_setting(tmp_path, server_root, clock, value):
    with pytest.raises(InvalidInput) as info:
        open_core(tmp_path, server_root, clock, master_key=value)
    assert info.value.field == "master_key"


def test_the_master_key_is_not_in_the_settings_repr():
    secret = base64.b64encode(os.urandom(32)).decode()
    assert secret not in repr(Settings(root_dir="/tmp", data_dir="/tmp/x", owner="o", master_key=secret))


# -- where files are stored -----------------------------------------------------------------------


@pytest.mark.parametrize("level, extra", [("reviewer-only", {}), ("embargoed", {"embargo_until": "2026-06-01"})])
def test_non_open_files_are_stored_only_encrypted(core, folder, level, extra):
    ds_id = share(core, level, **extra)
    assert list(core.store.blobs.rglob("*")) == []
    stored = core.store.path(SHA, ds_id).read_bytes()
    assert PAYLOAD[:4096] not in stored and len(stored) == crypto.stored_size(len(PAYLOAD))
    assert read_all(core, ds_id, range_header="bytes=100-200") == PAYLOAD[100:201]
    _, files = datasets.version_files(core, ds_id, 1)
    assert {(f.path, f.size, f.sha256) for f in files} >= {("big.bin", len(PAYLOAD), SHA)}  # the manifest is unchanged


def test_restricted_files_are_encrypted_too(core, folder):
    ds_id = datasets.share(core, OWNER, {"path": "study", "title": "T", "access": {"level": "restricted"},
                                         "committee": {"members": ["bob"]}})  # fmt: skip
    assert core.store.has(SHA, ds_id) and not core.store.has(SHA)


def test_encrypted_files_dedupe_within_a_dataset_not_across(core, folder, server_root):
    a = share(core)
    b = share(core)
    (folder / "notes.txt").write_text("changed")
    assert datasets.new_version(core, OWNER, a) == 2
    assert sorted(p.name for p in (core.store.encrypted / a).iterdir()).count(SHA) == 1
    assert len(list((core.store.encrypted / a).iterdir())) == 3  # big.bin once, two notes
    assert core.store.path(SHA, a).read_bytes() != core.store.path(SHA, b).read_bytes()
    assert read_all(core, a, version=1, path="notes.txt") == b"about" and read_all(core, a, path="notes.txt") == b"changed"


def test_a_failed_share_leaves_no_encrypted_files(core, folder):
    def crash(_n):
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        datasets.share(core, OWNER, {"path": "study", "title": "T", "access": {"level": "reviewer-only"}}, progress=crash)
    assert list(core.store.encrypted.iterdir()) == [] and list(core.store.tmp.iterdir()) == []


def test_encrypting_into_the_store_is_crash_safe(tmp_path):
    """Temp file, fsync, rename: a crash half-way leaves nothing under the file's name."""
    store = BlobStore(tmp_path / "store")
    source = tmp_path / "big.bin"
    source.write_bytes(PAYLOAD)
    seen = []

    def power_cut(n):
        seen.append(n)
        if len(seen) == 1:  # after the first block of segments is written, before the rename
            raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        store.freeze_encrypted(source, "ds-x", os.urandom(32), power_cut)
    assert not store.has(SHA, "ds-x") and list(store.tmp.iterdir()) == []
    sha, size = store.freeze_encrypted(source, "ds-x", os.urandom(32))
    assert (sha, size) == (SHA, len(PAYLOAD)) and stat.S_IMODE(store.path(SHA, "ds-x").stat().st_mode) == 0o400


def test_becoming_non_open_encrypts_and_drops_plain_copies_no_open_dataset_needs(core, folder, server_root):
    (server_root / "copy").mkdir()
    (server_root / "copy" / "same.bin").write_bytes(PAYLOAD)  # the same content, in another open dataset
    ds_id, other = share(core, "open"), share(core, "open", path="copy")
    notes_sha = hashlib.sha256(b"about").hexdigest()
    datasets.update(core, OWNER, ds_id, {"access": {"level": "reviewer-only"}})
    assert core.store.has(SHA, ds_id) and core.store.has(notes_sha, ds_id)
    assert not core.store.has(notes_sha)  # nobody else needs it in plain form
    assert core.store.has(SHA)  # the other open dataset still does
    assert key_row(core, ds_id).sealed_at is not None
    assert [e["action"] for e in core.audit.events()][-2:] == ["access.changed", "dataset.encrypted"]
    assert read_all(core, ds_id) == PAYLOAD
    datasets.withdraw(core, OWNER, other)
    assert not core.store.has(SHA)  # only the encrypted dataset refers to it now


def test_a_store_from_before_encryption_is_encrypted_at_start(core, folder, tmp_path, server_root, clock):
    ds_id = share(core, "open")
    with core.engine.begin() as conn:  # as a store from before revision 0002 left it
        conn.execute(text("UPDATE datasets SET access_level = 'reviewer-only' WHERE id = :id"), {"id": ds_id})
    core.close()
    again = open_core(tmp_path, server_root, clock)
    try:
        assert again.store.has(SHA, ds_id) and not again.store.has(SHA)
        assert read_all(again, ds_id) == PAYLOAD
        assert keyring.seal_pending(again) == []  # nothing left to do
    finally:
        again.close()


def test_an_interrupted_encryption_resumes_with_the_same_key(core, folder, tmp_path, server_root, clock, monkeypatch):
    ds_id = share(core, "open")
    calls, real = [], type(core.store).encrypt_existing

    def fail_second(self, sha, dataset_id, data_key):
        calls.append(sha)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, sha, dataset_id, data_key)

    monkeypatch.setattr(type(core.store), "encrypt_existing", fail_second)
    with pytest.raises(OSError):
        datasets.update(core, OWNER, ds_id, {"access": {"level": "reviewer-only"}})
    monkeypatch.undo()
    wrapped = key_row(core, ds_id).wrapped_key
    assert key_row(core, ds_id).sealed_at is None
    assert read_all(core, ds_id) == PAYLOAD and read_all(core, ds_id, path="notes.txt") == b"about"  # half done: still served
    core.close()
    again = open_core(tmp_path, server_root, clock)
    try:
        assert key_row(again, ds_id).wrapped_key == wrapped and key_row(again, ds_id).sealed_at is not None
        assert again.store.has(SHA, ds_id) and not again.store.has(SHA)
        assert read_all(again, ds_id) == PAYLOAD and read_all(again, ds_id, path="notes.txt") == b"about"
    finally:
        again.close()


# -- withdrawal: crypto-shredding -----------------------------------------------------------------


def test_withdrawing_destroys_the_key_so_an_earlier_copy_of_the_files_stays_unreadable(core, folder, tmp_path):
    ds_id = share(core)
    keep = share(core)  # another encrypted dataset: its key must survive
    copy = tmp_path / "stolen"
    shutil.copytree(core.store.encrypted / ds_id, copy)
    wrapped = key_row(core, ds_id).wrapped_key
    master = core.keyring.master()
    assert aes_key_unwrap(master, wrapped)  # before: the system could decrypt the copy

    datasets.withdraw(core, OWNER, ds_id, "consent withdrawn")

    row = key_row(core, ds_id)
    assert row.wrapped_key is None and row.destroyed_at is not None
    assert not (core.store.encrypted / ds_id).exists() and core.store.has(SHA, keep)
    actions = [e["action"] for e in core.audit.events()]
    assert actions[-2:] == ["dataset.key_destroyed", "dataset.withdrawn"]
    # Everything the system still has: the master key and every wrapped key left in the database.
    with reading(core.engine) as s:
        remaining = [r.wrapped_key for r in s.scalars(select(DatasetKey)) if r.wrapped_key is not None]
    candidates = []
    for w in remaining:
        try:
            candidates.append(aes_key_unwrap(master, w))
        except InvalidUnwrap:
            pass
    assert candidates  # the other dataset's key is there...
    for data_key in candidates:  # ...and it does not open the withdrawn dataset's files
        with open(copy / SHA, "rb") as f, pytest.raises(crypto.DamagedFile):
            b"".join(crypto.EncryptedFile(f, data_key, len(PAYLOAD), SHA).chunks(0, 10))
    # Nor is the destroyed wrapped key still lying in the database files.
    assert wrapped not in rawdb.all_bytes(core)
    with pytest.raises(InvalidInput):
        datasets.withdraw(core, OWNER, ds_id)


# -- several processes on one store -----------------------------------------------------------------


def test_two_processes_making_the_master_key_at_once_agree_on_it(core, monkeypatch):
    """Two processes' first encrypted shares at the same moment: the one that finds the key file
    while the other is still writing it must never read a short key (a failed share)."""
    first, second = (keyring.Keyring(core.engine, core.settings.data_dir) for _ in range(2))
    writing, go_on, found = threading.Event(), threading.Event(), {}
    real_fdopen = os.fdopen

    def slow_fdopen(fd, *args, **kwargs):  # the first process made its file, not yet its bytes
        if threading.current_thread().name == "first" and not writing.is_set():
            writing.set()
            go_on.wait(30)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", slow_fdopen)

    def make(name, ring):
        try:
            found[name] = ring.master(create=True)
        except Exception as exc:  # noqa: BLE001 - compared below
            found[name] = exc

    t = threading.Thread(target=make, args=("first", first), name="first")
    t.start()
    assert writing.wait(30)
    make("second", second)  # meanwhile, in the other process
    go_on.set()
    t.join(30)
    assert isinstance(found["second"], bytes) and found["first"] == found["second"]
    assert (core.keyring.path.read_bytes(), len(found["first"])) == (found["first"], crypto.KEY_SIZE)
    assert [p.name for p in core.keyring.path.parent.iterdir() if p.name.startswith(".master")] == []


def test_a_seal_finished_by_another_process_meanwhile_is_not_an_error(core, folder, clock, monkeypatch):
    """The owner makes a dataset non-open while another process (one starting up) seals it too."""
    ds_id = share(core, "open")
    other = DataShare(core.settings, clock)
    real, raced = core.store.encrypt_existing, []

    def other_process_first(sha, dataset_id, data_key):
        if not raced:
            raced.append(keyring.seal(other, dataset_id))  # encrypts all, removes the plain copies
        return real(sha, dataset_id, data_key)

    monkeypatch.setattr(core.store, "encrypt_existing", other_process_first)
    try:
        datasets.update(core, OWNER, ds_id, {"access": {"level": "reviewer-only"}})
        assert raced and raced[0] == core.keyring.unwrap(key_row(core, ds_id))  # one key for both
        assert [e["action"] for e in core.audit.events()].count("dataset.encrypted") == 1
        assert read_all(core, ds_id) == PAYLOAD and read_all(other, ds_id, path="notes.txt") == b"about"
        assert not core.store.has(SHA)
    finally:
        other.close()


STARTING = textwrap.dedent("""
    import hashlib, os, sys, time
    from jupyter_datashare.core import keyring
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    root, data, db_url, go, ds_id = sys.argv[1:6]
    while not os.path.exists(go):  # every process starts at the same moment
        time.sleep(0.001)
    core = DataShare(Settings(root_dir=root, data_dir=data, db_url=db_url, owner="ada-owner"))
    key = keyring.key_for_file(core, ds_id, sys.argv[6])
    print(hashlib.sha256(key).hexdigest() if key else "plain", flush=True)
    core.close()
""")


@pytest.mark.parametrize("round_", range(3))
def test_processes_starting_at_once_on_a_store_to_seal_agree_on_one_key(core, folder, tmp_path, server_root, clock,
                                                                          round_):  # fmt: skip
    ds_id = share(core, "open")
    rawdb.execute(core, ("UPDATE datasets SET access_level = 'reviewer-only' WHERE id = ?", (ds_id,)))  # as before 0002
    assert not core.keyring.path.exists()  # no encrypted dataset yet: no master key either
    core.close()
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", STARTING, str(server_root), core.settings.data_dir,
                               core.settings.db_url, str(go), ds_id, SHA], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    time.sleep(1.5)  # let them all import and wait
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert all("could not encrypt" not in err for _, err in outs), [err for _, err in outs]
    fingerprints = {out.strip() for out, _ in outs}
    assert len(fingerprints) == 1 and fingerprints != {"plain"}
    again = open_core(tmp_path, server_root, clock)
    try:
        assert rawdb.rows(again, "SELECT count(*) FROM dataset_keys") == [(1,)]
        assert [e["action"] for e in again.audit.events()].count("dataset.encrypted") == 1
        assert read_all(again, ds_id) == PAYLOAD and read_all(again, ds_id, path="notes.txt") == b"about"
        assert not again.store.has(SHA) and list(again.store.tmp.iterdir()) == []
        assert again.audit.verify().ok
    finally:
        again.close()
