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


# -- nothing of the store is ever collected, whatever the links --------------------------------


@pytest.fixture
def store(root):
    """A data dir inside the root, as ~/.local/share/jupyter/datashare is when the root is home."""
    data = root / ".local" / "share" / "jupyter" / "datashare"
    (data / "store" / "blobs").mkdir(parents=True)
    for name in ("master.key", "audit-signing.key", "datashare.sqlite"):
        (data / name).write_bytes(b"secret " + name.encode())
    return data


def forbidden_of(store):
    return paths.Forbidden([store, store / "store", store / "master.key", store / "audit-signing.key",
                            store / "datashare.sqlite"])  # fmt: skip


def collect_refused(root, store, rel, fragment="data-sharing store", include_hidden=False):
    forbidden = forbidden_of(store)
    with pytest.raises(InvalidInput) as info:
        target = paths.resolve(str(root), rel, include_hidden, forbidden=forbidden)
        paths.collect(str(root), target, include_hidden, forbidden=forbidden)
    assert info.value.field == "path" and fragment in info.value.message, info.value.message
    return info.value.message


@pytest.mark.parametrize("make, named", [
    (lambda root, store: os.symlink(store, root / "study" / "cache"), "folder 'cache'"),
    (lambda root, store: os.symlink(root / ".local" / "share", root / "study" / "share"), "folder 'share/jupyter/datashare'"),
    (lambda root, store: os.symlink(store / "master.key", root / "study" / "key.txt"), "'key.txt'"),
    (lambda root, store: os.symlink(store / "datashare.sqlite", root / "study" / "db"), "'db'"),
    (lambda root, store: (os.symlink(store, root / "hop"), os.symlink(root / "hop", root / "study" / "hop2")),
     "folder 'hop2'"),
    (lambda root, store: os.link(store / "audit-signing.key", root / "study" / "copy.bin"), "'copy.bin' is a file of"),
])  # fmt: skip
def test_a_link_into_the_store_is_refused_and_named(root, store, make, named):
    make(root, store)
    assert named in collect_refused(root, store, "study")


def test_a_folder_that_holds_the_store_is_refused_even_through_a_link(root, store):
    collect_refused(root, store, ".local", include_hidden=True)
    os.symlink(root / ".local", root / ".study-local")
    os.symlink(root / ".study-local", root / "study" / ".home")
    # Without hidden files the walk never goes there: the study itself is fine.
    target = paths.resolve(str(root), "study", forbidden=forbidden_of(store))
    assert [f.relpath for f in paths.collect(str(root), target, forbidden=forbidden_of(store))] == ["a.csv"]
    assert "folder '.home/share/jupyter/datashare'" in collect_refused(root, store, "study", include_hidden=True)


def test_a_store_file_not_made_yet_is_still_forbidden_by_location(root, tmp_path):
    later = root / "keys" / "master.key"
    later.parent.mkdir()
    forbidden = paths.Forbidden([later])
    later.write_text("made after the server started")
    os.symlink(later, root / "study" / "k")
    with pytest.raises(InvalidInput, match="'k' leads into"):
        paths.collect(str(root), paths.resolve(str(root), "study"), forbidden=forbidden)


# -- what is opened for freezing is what was checked --------------------------------------------


def test_collected_files_carry_their_identity_and_size(root):
    (f,) = paths.collect(str(root), paths.resolve(str(root), "study"))
    st = os.stat(root / "study" / "a.csv")
    assert f.identity == (st.st_dev, st.st_ino) and f.size == 4 and f.root == os.path.realpath(root)
    with os.fdopen(paths.open_checked(f), "rb") as opened:
        assert opened.read() == b"x\n1\n"


def test_a_folder_swapped_for_a_link_after_the_check_is_not_opened(root, tmp_path):
    (root / "study" / "sub").mkdir()
    (root / "study" / "sub" / "b.csv").write_text("checked\n")
    files = paths.collect(str(root), paths.resolve(str(root), "study"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.csv").write_text("not checked: outside the root\n")
    os.rename(root / "study" / "sub", root / "study" / "sub-old")
    os.symlink(outside, root / "study" / "sub")
    swapped = next(f for f in files if f.relpath == "sub/b.csv")
    with pytest.raises(paths.Changed, match="its folder 'study/sub' is now a symbolic link"):
        paths.open_checked(swapped)


def test_a_file_replaced_after_the_check_is_not_opened(root):
    (f,) = paths.collect(str(root), paths.resolve(str(root), "study"))
    os.rename(root / "study" / "a.csv", root / "study" / "a-old.csv")  # kept: a new file gets a new inode
    (root / "study" / "a.csv").write_text("another file under the same name\n")
    with pytest.raises(paths.Changed, match="replaced by another file"):
        paths.open_checked(f)
    (root / "study" / "a.csv").unlink()
    os.symlink(root / "study" / ".secret", root / "study" / "a.csv")
    with pytest.raises(paths.Changed, match="now a symbolic link"):
        paths.open_checked(f)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_never_opened(root):
    os.mkfifo(root / "study" / "pipe.csv")
    with pytest.raises(InvalidInput, match="'pipe.csv' is not a regular file"):
        paths.collect(str(root), paths.resolve(str(root), "study"))
