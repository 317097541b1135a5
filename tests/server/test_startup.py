"""A datashare that cannot start stops the Jupyter server, loudly, instead of serving without it.

A real ``jupyter server`` process, as a user starts it, on a data folder it cannot open.
"""

import os
import socket
import subprocess
import sys

import pytest

from tests.core.test_migrations import make_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, data_dir, timeout=120) -> tuple[int, str]:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    cmd = [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={free_port()}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
           "--ServerApp.jpserver_extensions={'jupyter_datashare': True}", f"--DataShareApp.data_dir={data_dir}"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"the server was still running {timeout} s later, without its extension:\n{out[-3000:]}")
    return proc.returncode, out


def test_an_unreadable_database_stops_the_server_with_what_to_do(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "datashare.sqlite").write_bytes(b"this is not a database, it was overwritten" * 100)
    code, out = start_server(tmp_path, data_dir)
    assert code != 0
    assert "jupyter_datashare could not start, so this Jupyter server stops" in out
    assert str(data_dir) in out and "back up the" in out and "not a database" in out
    assert "is running at" not in out  # it never served


def test_a_failed_upgrade_stops_the_server_and_names_both_schemas(tmp_path):
    data_dir, _ = make_store(tmp_path, "0004")
    import sqlite3

    con = sqlite3.connect(data_dir / "datashare.sqlite")
    con.execute("CREATE TABLE _alembic_tmp_datasets (x INTEGER)")  # in the way of 0005's table rebuild
    con.commit()
    con.close()
    code, out = start_server(tmp_path, data_dir)
    assert code != 0
    assert "could not be upgraded from schema 0004" in out and "back up the whole data folder" in out
    assert "is running at" not in out


def test_the_server_reclaims_what_crashed_shares_left_long_ago(tmp_path, ds_config, request):
    """Leftovers of a kill -9 more than a day ago go when the server starts; recent ones and the
    files of existing datasets stay."""
    from tests.core.test_store_check import backdate

    data_dir = tmp_path / "data"
    ds_config["data_dir"] = str(data_dir)
    store = data_dir / "store"
    for sub in ("tmp", "encrypted/ds-never-committed", "blobs/ab"):
        (store / sub).mkdir(parents=True)
    (store / "tmp" / "tmpold").write_bytes(b"half a file" * 1000)
    (store / "encrypted" / "ds-never-committed" / ("1" * 64)).write_bytes(b"\x00" * 5000)
    (store / "blobs" / "ab" / ("ab" + "2" * 62)).write_bytes(b"unreferenced")
    backdate(store / "tmp", store / "encrypted", store / "blobs")
    (store / "tmp" / "tmpnew").write_bytes(b"maybe a share of another process")

    ctx = request.getfixturevalue("ctx")  # the server starts here
    assert sorted(p.name for p in (store / "tmp").iterdir()) == ["tmpnew"]
    assert list((store / "encrypted").iterdir()) == [] and list((store / "blobs" / "ab").iterdir()) == []
    [event] = ctx.audit.events(action="store.reclaimed")
    assert event["details"]["tmp_files"] == 1 and event["details"]["orphan_datasets"] == 1
    assert ctx.audit.verify().ok
