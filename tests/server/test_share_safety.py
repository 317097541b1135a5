"""What may never be shared, whatever the links, and what a share that cannot finish answers.

The data dir sits inside the server root here, as it does by default when the Jupyter root is
the home folder (``~/.local/share/jupyter/datashare``).
"""

import json
import os
import subprocess

import pytest

from tests import rawdb
from tests.server.test_jobs import database_locked, poll, start

MIB = 1 << 20
ANON = {"Authorization": ""}


@pytest.fixture
def data_dir(server_root):
    return server_root / ".local" / "share" / "jupyter" / "datashare"


@pytest.fixture
def ds_config(data_dir, server_root):
    return {"failed_lookups_per_client": 1000, "failed_lookups_overall": 100_000, "job_threads": 1,
            "data_dir": str(data_dir)}  # fmt: skip


@pytest.fixture
def secrets(ctx, data_dir):
    """Every secret file of the store exists, as on a server that has shared a restricted dataset."""
    ctx.keyring.master(create=True)
    names = ("master.key", "audit-signing.key") + (("datashare.sqlite",) if rawdb.is_sqlite(ctx) else ())
    found = {name: data_dir / name for name in names}
    assert all(p.is_file() for p in found.values()) and (data_dir / "store").is_dir()
    return found


async def nothing_was_shared(call, ctx):
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []
    assert (await call.json("GET", "datashare", "api", "audit"))["events"] == []
    assert list(ctx.store.tmp.iterdir()) == [] and list(ctx.store.encrypted.iterdir()) == []


async def refused(call, body, fragment="data-sharing store"):
    r = await call("POST", "datashare", "api", "datasets", body={"title": "Project", **body})
    assert r.code == 400, (r.code, r.body[:300])
    err = json.loads(r.body)
    assert err["field"] == "path" and fragment in err["message"], err
    return err


def _links_into_the_store(server_root, data_dir, secrets):
    """(name, how to make proj unsafe) for every way a link can lead into the store."""
    proj = server_root / "proj"
    return {
        "a link to the data dir": lambda: os.symlink(data_dir, proj / "cache"),
        "a relative link to the data dir": lambda: os.symlink("../.local/share/jupyter/datashare", proj / "cache"),
        "a link to a parent of the data dir": lambda: os.symlink(server_root / ".local" / "share", proj / "share"),
        "a link to the store": lambda: os.symlink(data_dir / "store", proj / "blobs"),
        "a file link to the master key": lambda: os.symlink(secrets["master.key"], proj / "key.txt"),
        "a file link to the signing key": lambda: os.symlink(secrets["audit-signing.key"], proj / "sign.txt"),
        "a file link to the database": lambda: os.symlink(secrets["datashare.sqlite"], proj / "db.sqlite"),
        "a link to a link to the data dir": lambda: (os.symlink(data_dir, server_root / "elsewhere"),
                                                     os.symlink(server_root / "elsewhere", proj / "cache")),
        "a link deep inside a subfolder": lambda: (os.makedirs(proj / "a" / "b"),
                                                   os.symlink(data_dir, proj / "a" / "b" / "c")),
        "a hard link to the master key": lambda: os.link(secrets["master.key"], proj / "key.bin"),
    }  # fmt: skip


WAYS = [
    "a link to the data dir",
    "a relative link to the data dir",
    "a link to a parent of the data dir",
    "a link to the store",
    "a file link to the master key",
    "a file link to the signing key",
    "a file link to the database",
    "a link to a link to the data dir",
    "a link deep inside a subfolder",
    "a hard link to the master key",
]


@pytest.mark.parametrize("way", WAYS)
async def test_a_folder_that_leads_into_the_store_is_never_shared(call, make_files, ctx, server_root, data_dir,
                                                                 secrets, way):  # fmt: skip
    if way == "a file link to the database" and "datashare.sqlite" not in secrets:
        pytest.skip("on PostgreSQL the database is not a file in the data dir")
    make_files({"proj/table.csv": "id\n1\n"})
    _links_into_the_store(server_root, data_dir, secrets)[way]()
    await refused(call, {"path": "proj"})
    await nothing_was_shared(call, ctx)
    # Not as a background job either: refused at once, no job started.
    r = await call("POST", "datashare", "api", "datasets", body={"path": "proj", "title": "P"}, params={"async": "1"})
    assert r.code == 400 and json.loads(r.body)["field"] == "path"
    await nothing_was_shared(call, ctx)


async def test_the_master_key_cannot_be_read_through_a_shared_link(call, make_files, ctx, server_root, data_dir,
                                                                  secrets):  # fmt: skip
    """The attack of the report: share proj as open, fetch cache/master.key anonymously."""
    make_files({"proj/table.csv": "id\n1\n"})
    os.symlink(data_dir, server_root / "proj" / "cache")
    r = await call("POST", "datashare", "api", "datasets", body={"path": "proj", "title": "Project"})
    if r.code == 201:  # today's code: the key is one anonymous GET away
        ds_id = json.loads(r.body)["id"]
        leak = await call("GET", "datashare", "d", ds_id, "files", "cache", "master.key", headers=ANON)
        assert leak.code != 200 or leak.body != secrets["master.key"].read_bytes(), "the master key was served"
    assert r.code == 400


async def test_a_folder_holding_the_data_dir_is_refused_even_with_hidden_files(call, make_files, ctx, server_root,
                                                                              secrets):  # fmt: skip
    make_files({"proj/table.csv": "id\n1\n"})
    await refused(call, {"path": ".local", "include_hidden": True})
    os.symlink(server_root / ".local", server_root / "proj" / "home-local")
    await refused(call, {"path": "proj", "include_hidden": True})
    await nothing_was_shared(call, ctx)


async def test_links_inside_the_root_that_stay_out_of_the_store_still_work(call, make_files, server_root, secrets):
    make_files({"proj/table.csv": "id\n1\n", "other/extra.csv": "x\n2\n"})
    os.symlink(server_root / "other", server_root / "proj" / "more")
    d = await call.json("POST", "datashare", "api", "datasets", body={"path": "proj", "title": "P"}, expect=201)
    assert [f["path"] for f in d["files"]] == ["more/extra.csv", "table.csv"]


@pytest.mark.parametrize("way", ["a link to the data dir", "a file link to the master key", "a hard link to the master key"])
async def test_a_new_version_never_takes_the_store_in(call, make_files, ctx, server_root, data_dir, secrets, way):
    make_files({"proj/table.csv": "id\n1\n"})
    d = await call.json("POST", "datashare", "api", "datasets", body={"path": "proj", "title": "P"}, expect=201)
    _links_into_the_store(server_root, data_dir, secrets)[way]()
    for params in (None, {"async": "1"}):
        r = await call("POST", "datashare", "api", "datasets", d["id"], "versions", params=params)
        assert r.code == 400 and "data-sharing store" in json.loads(r.body)["message"], r.body
    again = await call.json("GET", "datashare", "api", "datasets", d["id"])
    assert again["version"] == 1 and [v["number"] for v in again["versions"]] == [1]


@pytest.fixture
def key_file_config(server_root):
    # The data dir outside the root (the test default), the master key file inside it.
    (server_root / "keys").mkdir()
    return {"failed_lookups_per_client": 1000, "master_key_file": str(server_root / "keys" / "datashare.key")}


async def test_a_master_key_file_elsewhere_in_the_root_is_never_shared(key_file_config, call, make_files, server_root,
                                                                       ctx):  # fmt: skip
    key_file = server_root / "keys" / "datashare.key"
    ctx.keyring.master(create=True)
    assert key_file.is_file()
    make_files({"proj/table.csv": "id\n1\n"})
    os.symlink(key_file, server_root / "proj" / "key.txt")
    await refused(call, {"path": "proj"})
    await refused(call, {"path": "keys"})
    await nothing_was_shared(call, ctx)


# -- what is frozen is what was checked (a background share, checked long before it is frozen) --


async def test_a_folder_swapped_for_a_link_after_the_check_is_not_frozen(call, make_files, ctx, server_root, data_dir,
                                                                        secrets):  # fmt: skip
    make_files({"first/a.csv": "a\n1\n", "proj/table.csv": "id\n1\n", "proj/keys/master.key": "decoy"})
    with database_locked(ctx):
        _, first = await start(call, "datasets", body={"path": "first", "title": "First"})
        await poll(call, first["job"]["id"], until=lambda j: j["files_done"] == 1)
        # The only job thread is busy: the second share is checked now and frozen later.
        _, second = await start(call, "datasets", body={"path": "proj", "title": "Project"})
        os.rename(server_root / "proj" / "keys", server_root / "proj" / "keys-old")
        os.symlink(data_dir, server_root / "proj" / "keys")
    assert (await poll(call, first["job"]["id"]))["state"] == "done"
    failed = await poll(call, second["job"]["id"])
    assert failed["state"] == "failed" and failed["dataset"] is None, failed
    assert failed["error"]["field"] == "path" and failed["error"]["status"] == 400
    assert "'keys/master.key'" in failed["error"]["message"] and "nothing was stored" in failed["error"]["message"]
    listed = (await call.json("GET", "datashare", "api", "datasets"))["datasets"]
    assert [d["title"] for d in listed] == ["First"]
    events = (await call.json("GET", "datashare", "api", "audit"))["events"]
    assert [e["action"] for e in events] == ["dataset.shared"]
    key = secrets["master.key"].read_bytes()
    assert all(b.read_bytes() != key for b in ctx.store.blobs.rglob("*") if b.is_file())


async def test_a_file_swapped_for_a_hard_link_to_the_key_after_the_check_is_not_frozen(call, make_files, ctx,
                                                                                       server_root, secrets):  # fmt: skip
    make_files({"first/a.csv": "a\n1\n", "proj/notes.txt": "harmless\n"})
    with database_locked(ctx):
        _, first = await start(call, "datasets", body={"path": "first", "title": "First"})
        await poll(call, first["job"]["id"], until=lambda j: j["files_done"] == 1)
        _, second = await start(call, "datasets", body={"path": "proj", "title": "Project"})
        (server_root / "proj" / "notes.txt").unlink()
        os.link(secrets["master.key"], server_root / "proj" / "notes.txt")
    failed = await poll(call, second["job"]["id"])
    assert failed["state"] == "failed" and "'notes.txt'" in failed["error"]["message"], failed
    assert [d["title"] for d in (await call.json("GET", "datashare", "api", "datasets"))["datasets"]] == ["First"]


# -- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_store(tmp_path):
    """The store on a real 1 MiB file system (tmpfs), mounted before the server starts."""
    store = tmp_path / "small" / "store"
    store.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(store)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"a small file system for the store needs mount (root): {done.stderr.decode().strip()}")
    yield store
    subprocess.run(["umount", "-l", str(store)], check=True)


@pytest.fixture
def full_disk_config(small_store):
    return {"failed_lookups_per_client": 1000, "job_threads": 1, "data_dir": str(small_store.parent)}


@pytest.fixture
def jp_server_config(clock, request):
    # ds_config of this module, unless a test asks for another configuration by name.
    special = [n for n in ("full_disk_config", "key_file_config") if n in request.fixturenames]
    config = request.getfixturevalue(special[0] if special else "ds_config")
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_datashare": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
        },
        "DataShareApp": {"owner": "ada-owner", "clock": clock, **config},
    }


@pytest.mark.parametrize("level", ["open", "reviewer-only"])
async def test_a_direct_share_that_runs_out_of_disk_says_so_and_shares_nothing(full_disk_config, call, make_files,
                                                                               ctx, level):  # fmt: skip
    make_files({"big/a.bin": os.urandom(2 * MIB), "big/b.csv": "x\n1\n"})
    body = {"path": "big", "title": "Big", "access": {"level": level}}
    r = await call("POST", "datashare", "api", "datasets", body=body)
    assert r.code == 500 and r.headers["Content-Type"].startswith("application/json")
    assert json.loads(r.body) == {"error": "ServerError", "field": None,
                                  "message": "freezing failed on the server (No space left on device); nothing was shared"}  # fmt: skip
    await nothing_was_shared(call, ctx)
    # The same answer as the background path gives.
    _, out = await start(call, "datasets", body=body)
    failed = await poll(call, out["job"]["id"])
    assert failed["error"] == json.loads(r.body) | {"status": 500}
    await nothing_was_shared(call, ctx)


async def test_a_direct_new_version_that_runs_out_of_disk_says_so(full_disk_config, call, make_files, ctx,
                                                                  server_root):  # fmt: skip
    make_files({"big/b.csv": "x\n1\n"})
    d = await call.json("POST", "datashare", "api", "datasets", body={"path": "big", "title": "Big"}, expect=201)
    (server_root / "big" / "a.bin").write_bytes(os.urandom(2 * MIB))
    r = await call("POST", "datashare", "api", "datasets", d["id"], "versions")
    assert r.code == 500
    assert json.loads(r.body)["message"] == "freezing failed on the server (No space left on device); no version was published"
    again = await call.json("GET", "datashare", "api", "datasets", d["id"])
    assert again["version"] == 1
    assert [e["action"] for e in (await call.json("GET", "datashare", "api", "audit"))["events"]] == ["dataset.shared"]
    assert list(ctx.store.tmp.iterdir()) == []
