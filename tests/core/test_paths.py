import os

import pytest

from jupyter_datashare.core import paths
from jupyter_datashare.core.errors import InvalidInput


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "data"
    (r / "study").mkdir(parents=True)
    (r / "study" / "a.csv").write_text("x\n1\n")
    (r / "study" / ".secret").write_text("token")
    (r / "study" / ".git").mkdir()
    (r / "study" / ".git" / "config").write_text("[core]")
    (r / "empty").mkdir()
    # A sibling whose name starts like the root: the /data vs /data2 trick.
    sibling = tmp_path / "data2"
    sibling.mkdir()
    (sibling / "private.csv").write_text("ssn\n123\n")
    return r


def refused(root, rel, fragment, **kw):
    with pytest.raises(InvalidInput) as info:
        target = paths.resolve(str(root), rel, **kw)
        paths.collect(str(root), target, kw.get("include_hidden", False))
    assert info.value.field == "path"
    assert fragment in info.value.message
    return info.value


def test_folder_is_collected_without_hidden_files(root):
    target = paths.resolve(str(root), "study")
    files = paths.collect(str(root), target)
    assert [f.relpath for f in files] == ["a.csv"]


def test_hidden_files_only_when_asked(root):
    target = paths.resolve(str(root), "study", include_hidden=True)
    rels = [f.relpath for f in paths.collect(str(root), target, include_hidden=True)]
    assert rels == [".git/config", ".secret", "a.csv"]
    refused(root, "study/.secret", "hidden")


@pytest.mark.parametrize("rel", ["../data2/private.csv", "study/../../data2", "..", "study/..\\..\\x"])
def test_dotdot_is_refused(root, rel):
    refused(root, rel, "'..'")


@pytest.mark.parametrize("rel", ["/etc/passwd", "\\etc\\passwd", "C:/Windows"])
def test_absolute_paths_are_refused(root, rel):
    refused(root, rel, "relative")


def test_symlink_leaving_the_root_is_refused(root, tmp_path):
    os.symlink(tmp_path / "data2", root / "link-out")
    refused(root, "link-out", "leaves the server root")
    os.symlink(tmp_path / "data2" / "private.csv", root / "study" / "inner-link.csv")
    refused(root, "study", "leaves the server root")


def test_prefix_trick_through_a_link_is_refused(root):
    # realpath of the target is /.../data2, which starts with the text "/.../data".
    os.symlink("../data2", root / "twin")
    refused(root, "twin/private.csv", "leaves the server root")


def test_symlink_inside_the_root_is_followed(root):
    os.symlink(root / "study" / "a.csv", root / "alias.csv")
    target = paths.resolve(str(root), "alias.csv")
    assert paths.collect(str(root), target)[0].abspath == str(root / "study" / "a.csv")


def test_missing_empty_and_root_itself(root):
    refused(root, "nope.csv", "does not exist")
    refused(root, "empty", "empty folder")
    refused(root, "", "required")
    refused(root, ".", "not the root itself")
    refused(root, None, "required")


def test_the_store_itself_cannot_be_shared(root):
    store = root / "study"
    refused(root, "study", "store", forbidden=(str(store),))
