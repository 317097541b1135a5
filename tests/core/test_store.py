import hashlib
import os

from jupyter_datashare.core.store import BlobStore


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


def test_a_pinned_blob_removed_by_a_clean_up_is_put_back_after_the_commit(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("shared content")
    with store.pinning() as pins:
        sha, _ = store.freeze(tmp_path / "x", pins=pins)
        store.delete_unreferenced([])  # a withdrawal's clean-up: no committed version needs it yet
        assert not store.has(sha)
    assert store.has(sha) and store.path(sha).read_text() == "shared content"
    assert list(store.pins.iterdir()) == []  # the pins go with the share


def test_a_failed_share_leaves_no_pins_and_restores_nothing(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("content")
    try:
        with store.pinning() as pins:
            sha, _ = store.freeze(tmp_path / "x", pins=pins)
            store.delete_unreferenced([])
            raise RuntimeError("the commit failed")
    except RuntimeError:
        pass
    assert not store.has(sha) and list(store.pins.iterdir()) == []


def test_pins_left_by_a_crash_are_restored_on_opening_and_dropped_when_stale(tmp_path):
    store = BlobStore(tmp_path / "store")
    (tmp_path / "x").write_text("content")
    pinning = store.pinning()
    pins = pinning.__enter__()  # a process that dies between its commit and the restore
    sha, _ = store.freeze(tmp_path / "x", pins=pins)
    store.remove(sha)
    BlobStore(tmp_path / "store")  # the next process to open the store
    assert store.has(sha) and list(store.pins.iterdir()) == [pins.dir]  # maybe still running: kept
    store.remove(sha)
    day_ago = os.stat(pins.dir).st_mtime - 2 * 24 * 3600
    os.utime(pins.dir, (day_ago, day_ago))
    BlobStore(tmp_path / "store")
    assert store.has(sha) and list(store.pins.iterdir()) == []
