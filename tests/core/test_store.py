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
