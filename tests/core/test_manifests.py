"""A client's manifest (``expected_files``) held against what a share really freezes."""

import hashlib

import pytest

from jupyter_datashare.core import datasets
from jupyter_datashare.core.errors import InvalidInput

from ..conftest import OWNER


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def folder(server_root):
    (server_root / "runs" / "a").mkdir(parents=True)
    (server_root / "runs" / "a" / "one.csv").write_bytes(b"x\n1\n")
    (server_root / "runs" / "two.csv").write_bytes(b"y\n2\n")
    return {"a/one.csv": sha(b"x\n1\n"), "two.csv": sha(b"y\n2\n")}


def manifest(files: dict) -> list[dict]:
    return [{"path": p, "sha256": h} for p, h in files.items()]


@pytest.mark.parametrize("level", ["open", "reviewer-only"])  # stored plain, and encrypted
def test_a_share_that_matches_its_manifest_is_made(core, folder, level):
    ds_id = datasets.share(core, OWNER, {"path": "runs", "title": "Runs", "access": {"level": level},
                                         "expected_files": manifest(folder)})  # fmt: skip
    assert ds_id.startswith("ds-")


@pytest.mark.parametrize("level", ["open", "reviewer-only"])
def test_a_changed_missing_or_extra_file_stores_nothing(core, folder, server_root, level):
    changed = dict(folder, **{"two.csv": sha(b"what the client sent")})
    missing = dict(folder, **{"three.csv": sha(b"z")})
    extra = {"a/one.csv": folder["a/one.csv"]}
    for files, words in ((changed, "is not the file the manifest names"), (missing, "does not hold"),
                         (extra, "does not name 'two.csv'")):  # fmt: skip
        with pytest.raises(InvalidInput) as info:
            datasets.share(core, OWNER, {"path": "runs", "title": "Runs", "access": {"level": level},
                                         "expected_files": manifest(files)})  # fmt: skip
        assert info.value.field == "expected_files" and words in info.value.message
    assert datasets.ids_of(core, OWNER) == []
    assert [e["action"] for e in core.audit.events()] == []  # no dataset.shared
    if core.store.encrypted.exists():
        assert list(core.store.encrypted.iterdir()) == []  # a refused encrypted share leaves no files


@pytest.mark.parametrize("value, field", [
    ("a.csv", "expected_files"), ([{"path": "a.csv"}], "expected_files[0]"),
    ([{"path": "a.csv", "sha256": "ABC"}], "expected_files[0].sha256"),
    ([{"path": "", "sha256": "0" * 64}], "expected_files[0].path"),
    ([{"path": "a.csv", "sha256": "0" * 64}, {"path": "a.csv", "sha256": "1" * 64}], "expected_files[1].path"),
])  # fmt: skip
def test_a_bad_manifest_names_the_item(core, folder, value, field):
    with pytest.raises(InvalidInput) as info:
        datasets.share(core, OWNER, {"path": "runs", "title": "Runs", "expected_files": value})
    assert info.value.field == field
