import pytest

from jupyter_datashare.core import datasets, policy, reads
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.errors import InvalidInput
from jupyter_datashare.core.models import Dataset

OWNER = "ada-owner"


def count_datasets(core) -> int:
    with reading(core.engine) as s:
        return s.query(Dataset).count()


def test_versions_freeze_the_files_and_old_ones_stay_readable(core, server_root):
    folder = server_root / "study"
    folder.mkdir()
    (folder / "t.csv").write_text("v1")
    ds_id = datasets.share(core, OWNER, {"path": "study", "title": "T"})
    (folder / "t.csv").write_text("v2!")
    (folder / "extra.txt").write_text("new")
    assert datasets.new_version(core, OWNER, ds_id) == 2
    ds = datasets.load(core, ds_id)
    public = policy.Principal("public", "public")
    old = reads.open_file(core, ds, public, "t.csv", version=1)
    new = reads.open_file(core, ds, public, "t.csv")
    assert b"".join(old.chunks()) == b"v1" and b"".join(new.chunks()) == b"v2!"
    _, files_v2 = datasets.version_files(core, ds_id, 2)
    assert [f.path for f in files_v2] == ["extra.txt", "t.csv"]
    actions = [e["action"] for e in core.audit.events()]
    assert actions == ["dataset.shared", "version.published"]


def test_a_failure_while_freezing_leaves_nothing_shared(core, server_root):
    (server_root / "big").mkdir()
    for i in range(3):
        (server_root / "big" / f"{i}.bin").write_bytes(b"x" * 1000)

    def crash(_n):
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        datasets.share(core, OWNER, {"path": "big", "title": "T"}, progress=crash)
    assert count_datasets(core) == 0 and core.audit.events() == []
    assert list(core.store.tmp.iterdir()) == []


def test_bad_input_stores_nothing(core, server_root):
    (server_root / "f.txt").write_text("x")
    cases = [
        ({"path": "f.txt", "title": ""}, "title"),
        ({"path": "f.txt", "title": "t", "colour": "red"}, "colour"),
        ({"path": "f.txt", "title": "t", "include_hidden": "yes"}, "include_hidden"),
        ({"path": "f.txt", "title": "t", "access": {"level": "private"}}, "access.level"),
    ]
    for body, field in cases:
        with pytest.raises(InvalidInput) as info:
            datasets.share(core, OWNER, body)
        assert info.value.field == field
    assert count_datasets(core) == 0 and core.audit.events() == []
    assert list(core.store.blobs.iterdir()) == []


def test_withdraw_removes_bytes_only_no_one_else_needs(core, server_root):
    (server_root / "a.txt").write_text("shared content")
    (server_root / "b.txt").write_text("shared content")
    first = datasets.share(core, OWNER, {"path": "a.txt", "title": "A"})
    second = datasets.share(core, OWNER, {"path": "b.txt", "title": "B"})
    datasets.withdraw(core, OWNER, first, "duplicate")
    _, files = datasets.version_files(core, second, 1)
    assert core.store.has(files[0].sha256)  # still used by the second dataset
    datasets.withdraw(core, OWNER, second)
    assert not core.store.has(files[0].sha256)
    with pytest.raises(InvalidInput):
        datasets.withdraw(core, OWNER, second)


def test_a_withdrawal_while_another_share_freezes_the_same_bytes_loses_nothing(core, server_root):
    # The second share finds the bytes already stored (or stores them) before the first dataset's
    # withdrawal deletes every blob no committed version needs: its own commit comes later.
    (server_root / "a.txt").write_text("shared content")
    (server_root / "b.txt").write_text("shared content")
    first = datasets.share(core, OWNER, {"path": "a.txt", "title": "A"})
    plan = datasets.check_share(core, OWNER, {"path": "b.txt", "title": "B"})
    second = datasets.freeze_and_share(core, plan, file_done=lambda: datasets.withdraw(core, OWNER, first, "superseded"))
    fr = reads.open_file(core, datasets.load(core, second), policy.Principal("public", "public"), "b.txt")
    assert b"".join(fr.chunks()) == b"shared content"


def test_embargo_lift_is_recorded_once(core, server_root, clock):
    (server_root / "e.txt").write_text("x")
    ds_id = datasets.share(
        core, OWNER, {"path": "e.txt", "title": "E", "access": {"level": "embargoed", "embargo_until": "2026-03-10"}}
    )
    datasets.load(core, ds_id)
    clock.advance(days=10)
    for _ in range(3):
        ds = datasets.load(core, ds_id)
    assert [e["action"] for e in core.audit.events()].count("embargo.lifted") == 1
    assert policy.level_in_force(ds, clock.now()) == "open"


def test_someone_elses_dataset_is_not_found(core, server_root):
    (server_root / "x.txt").write_text("x")
    ds_id = datasets.share(core, OWNER, {"path": "x.txt", "title": "X"})
    with pytest.raises(Exception) as info:
        datasets.update(core, "mallory", ds_id, {"title": "mine"})
    assert getattr(info.value, "status", None) == 404


def test_with_many_owners_each_owner_shares_from_their_own_folder_only(tmp_path, clock, server_root):
    """The standalone service's core: alice's paths are inside root/alice/, never above it."""
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    (server_root / "alice" / "study").mkdir(parents=True)
    (server_root / "alice" / "study" / "a.csv").write_text("x\n1\n")
    (server_root / "bob").mkdir()
    (server_root / "bob" / "b.csv").write_text("secret\n")
    ctx = DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "svc"), many_owners=True), clock)
    try:
        ds_id = datasets.share(ctx, "alice", {"path": "study", "title": "Study"})
        assert datasets.load(ctx, ds_id).source_path == "study"
        assert datasets.new_version(ctx, "alice", ds_id) == 2  # the same folder again
        for owner, path in (("alice", "../bob/b.csv"), ("alice", "bob/b.csv"), ("carol", "alice/study"), ("..", "bob")):
            with pytest.raises(InvalidInput) as info:
                datasets.share(ctx, owner, {"path": path, "title": "Taken"})
            assert info.value.field in ("path", "owner"), (owner, path)
    finally:
        ctx.close()
