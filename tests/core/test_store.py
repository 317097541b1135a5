import hashlib
import os
import subprocess
import sys
import textwrap

import pytest

from jupyter_datashare.core import datasets, keyring, paths, policy, reads, store_check
from jupyter_datashare.core.errors import InvalidInput
from jupyter_datashare.core.store import BlobStore, SourceUnreadable
from tests.conftest import OWNER

from .sharing_process import SharingProcess


def test_identical_content_is_stored_once(tmp_path):
    store = BlobStore(tmp_path / "store")
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    payload = os.urandom(3 * (1 << 20) + 17)
    a.write_bytes(payload)
    b.write_bytes(payload)
    sha_a, size_a = store.freeze(a)
    sha_b, _ = store.freeze(b)
    assert sha_a == sha_b == hashlib.sha256(payload).hexdigest() and size_a == len(payload)
    assert len(list(store.blobs.rglob("*"))) == 2  # one folder, one blob
    assert list(store.tmp.iterdir()) == []


def test_frozen_copy_does_not_follow_later_edits(tmp_path):
    store = BlobStore(tmp_path / "store")
    src = tmp_path / "t.csv"
    src.write_text("v1")
    sha, _ = store.freeze(src)
    src.write_text("v2 edited later")
    with store.open(sha) as f:
        assert f.read() == b"v1"


def test_unreferenced_blobs_are_removed(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("x")
    (tmp_path / "y").write_text("y")
    keep, _ = store.freeze(tmp_path / "x")
    drop, _ = store.freeze(tmp_path / "y")
    assert store.delete_unreferenced([keep]) == 1
    assert store.has(keep) and not store.has(drop)


def test_a_clean_up_leaves_pinned_blobs_and_one_that_went_is_read_from_its_pin_then_put_back(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("shared content")
    (tmp_path / "y").write_text("nobody's")
    with store.pinning() as pins:
        sha, _ = store.freeze(tmp_path / "x", pins=pins)
        other, _ = store.freeze(tmp_path / "y")
        # A withdrawal's clean-up: no committed version needs either; the pinned one stays.
        assert store.delete_unreferenced([]) == 1 and store.has(sha) and not store.has(other)
        store.remove(sha)  # taken before the share pinned it (see store.pinning)
        with store.open(sha) as f:  # committed meanwhile: read from the pin until it is put back
            assert f.read() == b"shared content"
    assert store.has(sha) and store.path(sha).read_text() == "shared content"
    assert list(store.pins.iterdir()) == []  # the pins go with the share


def test_a_failed_share_leaves_no_pins_and_restores_nothing(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("content")
    try:
        with store.pinning() as pins:
            sha, _ = store.freeze(tmp_path / "x", pins=pins)
            store.remove(sha)  # a clean-up took it
            raise RuntimeError("the commit failed")
    except RuntimeError:
        pass
    assert not store.has(sha) and list(store.pins.iterdir()) == []


def test_pins_left_by_a_crash_are_restored_on_opening_and_dropped_when_stale(tmp_path):
    # A process that dies between its commit and the restore: the OS drops its pin folder's lock.
    (tmp_path / "x").write_text("content")
    child = textwrap.dedent(f"""
        import os
        from jupyter_datashare.core.store import BlobStore
        store = BlobStore({str(tmp_path / "store")!r})
        pinning = store.pinning()  # held: a collected generator would release its pins
        pins = pinning.__enter__()
        sha, _ = store.freeze({str(tmp_path / "x")!r}, pins=pins)
        store.remove(sha)
        print(sha, pins.dir, flush=True)
        os._exit(0)
    """)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    sha, pin_dir = out.stdout.split()
    store = BlobStore(tmp_path / "store")  # the next process to open the store
    assert store.has(sha) and [str(p) for p in store.pins.iterdir()] == [pin_dir]  # young: kept
    store.remove(sha)
    day_ago = os.stat(pin_dir).st_mtime - 2 * 24 * 3600
    os.utime(pin_dir, (day_ago, day_ago))
    BlobStore(tmp_path / "store")
    assert store.has(sha) and list(store.pins.iterdir()) == []


def test_old_pins_of_a_share_still_running_are_kept(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("content")
    with store.pinning() as pins:  # a share running for more than a day, in this process
        sha, _ = store.freeze(tmp_path / "x", pins=pins)
        store.remove(sha)
        day_ago = os.stat(pins.dir).st_mtime - 2 * 24 * 3600
        os.utime(pins.dir, (day_ago, day_ago))
        BlobStore(tmp_path / "store")  # another process opens the store meanwhile
        assert store.has(sha) and list(store.pins.iterdir()) == [pins.dir]
    assert list(store.pins.iterdir()) == []


# -- clean-ups in one process, shares in another --------------------------------------------------

NEW = b"y,z\n" + os.urandom(4000).hex().encode()
OLD = b"withdrawn soon\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def two_folders(core, server_root):
    for folder, data in (("old", OLD), ("new", NEW)):
        (server_root / folder).mkdir()
        (server_root / folder / f"{folder}.csv").write_bytes(data)
    return datasets.share(core, OWNER, {"path": "old", "title": "Old"})


def read_new(core) -> bytes:
    (ds,) = [d for d in datasets.list_owned(core, OWNER) if d.title == "New"]
    return b"".join(reads.open_file(core, ds, policy.Principal("owner", OWNER), "new.csv").chunks())


def test_a_withdrawal_never_takes_the_blob_of_a_share_another_process_is_committing(core, tmp_path, two_folders):
    other = SharingProcess(core, tmp_path / "signals", {"path": "new", "title": "New"},
                           stops=[f"frozen {sha(NEW)}", "committed"])  # fmt: skip
    other.wait_for(f"frozen {sha(NEW)}")  # its blob is stored; no version refers to it yet
    datasets.withdraw(core, OWNER, two_folders)  # the clean-up deletes plain blobs no version needs
    assert core.store.has(sha(NEW)) and not core.store.has(sha(OLD))
    other.go(f"frozen {sha(NEW)}")
    other.wait_for("committed")  # the dataset exists from now on, for every process
    assert read_new(core) == NEW
    other.go("committed")
    other.finish()
    assert read_new(core) == NEW and store_check.check(core).ok


def test_a_share_committed_by_another_process_during_a_clean_up_keeps_its_blob(core, tmp_path, two_folders,
                                                                                monkeypatch):  # fmt: skip
    """The clean-up has read what is needed; before it deletes, another process's share runs to its end."""
    real, others = keyring.plain_needed, []

    def then_another_process_shares(ctx):
        needed = real(ctx)
        if not others:
            others.append(SharingProcess(core, tmp_path / "signals", {"path": "new", "title": "New"}))
            others[0].wait_for("started")
            try:  # given time to run to its end (it did, before the clean-up lock)
                others[0].proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass  # waiting for the clean-up to finish
        return needed

    monkeypatch.setattr(keyring, "plain_needed", then_another_process_shares)
    datasets.withdraw(core, OWNER, two_folders)
    others[0].finish()
    monkeypatch.undo()
    assert read_new(core) == NEW and not core.store.has(sha(OLD)) and store_check.check(core).ok


# -- what is frozen is exactly what was checked (a background share is frozen later) ------------


def test_a_checked_file_whose_folder_became_a_link_is_not_frozen(tmp_path):
    root = tmp_path / "root"
    (root / "proj" / "sub").mkdir(parents=True)
    (root / "proj" / "sub" / "t.csv").write_text("checked\n")
    (f,) = paths.collect(str(root), paths.resolve(str(root), "proj"))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "t.csv").write_text("never checked\n")
    os.rename(root / "proj" / "sub", root / "proj" / "old")
    os.symlink(tmp_path / "elsewhere", root / "proj" / "sub")
    store = BlobStore(tmp_path / "store")
    with pytest.raises(SourceUnreadable, match="'proj/sub' is now a symbolic link"):
        store.freeze(f)
    assert list(store.blobs.iterdir()) == [] and list(store.tmp.iterdir()) == []


def nothing_shared(core) -> bool:
    return (datasets.list_owned(core, OWNER, include_withdrawn=True) == [] and core.audit.events() == []
            and list(core.store.tmp.iterdir()) == [] and list(core.store.encrypted.iterdir()) == [])  # fmt: skip


def frozen_bytes(core) -> list[bytes]:
    return [b.read_bytes() for b in core.store.blobs.rglob("*") if b.is_file()]


@pytest.mark.parametrize("level", ["open", "reviewer-only"])
def test_a_folder_swapped_for_a_link_to_the_data_dir_between_check_and_freeze(core, server_root, level):
    """The TOCTOU of a background share: checked with a decoy, frozen after the swap."""
    (server_root / "proj" / "keys").mkdir(parents=True)
    (server_root / "proj" / "readme.txt").write_text("about\n")
    (server_root / "proj" / "keys" / "audit-signing.key").write_text("decoy\n")
    plan = datasets.check_share(core, OWNER, {"path": "proj", "title": "P", "access": {"level": level}})
    os.rename(server_root / "proj" / "keys", server_root / "proj" / "keys-old")
    os.symlink(core.settings.data_dir, server_root / "proj" / "keys")
    with pytest.raises(InvalidInput) as info:
        datasets.freeze_and_share(core, plan)
    message = info.value.message
    assert info.value.field == "path" and "'keys/audit-signing.key'" in message and "nothing was stored" in message
    assert "'proj/keys' is now a symbolic link" in message
    assert nothing_shared(core)
    signing_key = (core.settings.data_dir + "/audit-signing.key")
    assert open(signing_key, "rb").read() not in frozen_bytes(core)


def test_a_file_swapped_for_a_hard_link_to_the_master_key_between_check_and_freeze(core, server_root):
    core.keyring.master(create=True)
    (server_root / "proj").mkdir()
    (server_root / "proj" / "notes.txt").write_text("harmless\n")
    plan = datasets.check_share(core, OWNER, {"path": "proj", "title": "P"})
    (server_root / "proj" / "notes.txt").unlink()
    os.link(core.keyring.path, server_root / "proj" / "notes.txt")
    with pytest.raises(InvalidInput, match="'notes.txt' changed .*replaced by another file"):
        datasets.freeze_and_share(core, plan)
    assert nothing_shared(core) and frozen_bytes(core) == []


def test_a_new_version_checked_then_swapped_is_not_published(core, server_root, tmp_path):
    (server_root / "proj" / "sub").mkdir(parents=True)
    (server_root / "proj" / "sub" / "t.csv").write_text("a\n1\n")
    ds_id = datasets.share(core, OWNER, {"path": "proj", "title": "P"})
    plan = datasets.check_new_version(core, OWNER, ds_id)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "t.csv").write_text("secret\n")
    os.rename(server_root / "proj" / "sub", server_root / "proj" / "sub-old")
    os.symlink(tmp_path / "outside", server_root / "proj" / "sub")
    with pytest.raises(InvalidInput, match="'sub/t.csv' changed"):
        datasets.freeze_new_version(core, plan)
    assert datasets.load_owned(core, OWNER, ds_id).latest_version == 1
    assert b"secret\n" not in frozen_bytes(core)


def test_previews_are_read_from_the_checked_file(core, server_root):
    (server_root / "proj").mkdir()
    (server_root / "proj" / "t.csv").write_text("id,value\n1,10\n")
    ds_id = datasets.share(core, OWNER, {"path": "proj", "title": "P"})
    _, (row,) = datasets.version_files(core, ds_id, 1)
    assert row.preview["columns"][0]["name"] == "id" and row.preview["rows"] == 1


def test_a_signing_key_kept_elsewhere_in_the_root_is_never_shared(core, server_root):
    # ``signing_key_file`` puts the checkpoint signing key away from the data dir; wherever it is,
    # a link to it is refused like one to the data dir.
    key = server_root / "keys" / "signing.key"
    key.parent.mkdir()
    key.write_bytes(os.urandom(32))
    core.settings.signing_key_file = str(key)
    (server_root / "proj").mkdir()
    (server_root / "proj" / "notes.txt").write_text("about\n")
    os.symlink(key, server_root / "proj" / "sig.bin")
    with pytest.raises(InvalidInput, match="'sig.bin' leads into the data-sharing store"):
        datasets.check_share(core, OWNER, {"path": "proj", "title": "P"})
    with pytest.raises(InvalidInput, match="is or holds the data-sharing store"):
        datasets.check_share(core, OWNER, {"path": "keys", "title": "P"})


def test_a_file_across_several_copy_buffers_is_stored_byte_for_byte(tmp_path):
    from jupyter_datashare.core import store as store_module

    store = BlobStore(tmp_path / "store")
    payload = os.urandom(2 * store_module.COPY_CHUNK + 17)
    (tmp_path / "big.bin").write_bytes(payload)
    seen = []
    sha, size = store.freeze(tmp_path / "big.bin", progress=seen.append)
    assert (sha, size) == (hashlib.sha256(payload).hexdigest(), len(payload)) and sum(seen) == len(payload)
    assert store.path(sha).read_bytes() == payload and store.problem(sha, size) is None


def test_a_file_rewritten_while_it_is_frozen_is_stored_under_the_hash_of_what_was_stored(tmp_path):
    """The hash is of the bytes written, never of a second read of the source: whatever the
    researcher does to the file meanwhile, a blob's content is its name."""
    from jupyter_datashare.core import store as store_module

    store = BlobStore(tmp_path / "store")
    src = tmp_path / "moving.bin"
    src.write_bytes(b"a" * (3 * store_module.COPY_CHUNK))

    def rewrite(_n):
        with open(src, "r+b") as f:
            f.write(os.urandom(3 * store_module.COPY_CHUNK))

    sha, size = store.freeze(src, progress=rewrite)
    assert store.problem(sha, size) is None
    assert hashlib.sha256(store.path(sha).read_bytes()).hexdigest() == sha
