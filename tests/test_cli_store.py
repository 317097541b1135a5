"""``jupyter datashare store check``: damaged files and crash leftovers, from a terminal."""

from __future__ import annotations

import json

import pytest

from jupyter_datashare import cli
from jupyter_datashare.core import datasets
from tests.core.test_store_check import backdate, flip
from tests.test_cli import CLI, SURVEY


@pytest.fixture
def run(tmp_path, capsys):
    c = CLI(tmp_path, capsys)
    c.files(SURVEY)
    return c


def blob_of(run, ds_id, path):
    core = run.core()
    try:
        _, rows = datasets.version_files(core, ds_id, 1)
        sha = next(r.sha256 for r in rows if r.path == path)
        return core.store.path(sha)
    finally:
        core.close()


def test_store_check_names_a_damaged_file_and_the_log_still_verifies(run):
    ds = run.share()
    assert "checked 2 stored files" in run.ok("store", "check")
    flip(blob_of(run, ds, "table.csv"))
    code, out, err = run("store", "check")
    assert code == 1 and f"DAMAGED {ds} v1 table.csv" in out and "no longer served" in err
    code, out, _ = run("store", "check")  # known now: named again, recorded once
    assert code == 1 and "(known)" in out
    assert [e["file"] for e in run.events() if e["action"] == "file.corrupt"] == ["table.csv"]
    assert run.ok("audit", "verify").startswith("ok:")
    report = json.loads(run("store", "check", "--json")[1])
    assert report["ok"] is False and report["damaged"][0]["path"] == "table.csv"


def test_store_check_lists_leftovers_and_repair_removes_them(run):
    run.share()
    store = run.data / "store"
    (store / "tmp" / "tmpcrash").write_bytes(b"x" * 2048)
    (store / "encrypted" / "ds-neverwas").mkdir()
    (store / "encrypted" / "ds-neverwas" / ("3" * 64)).write_bytes(b"y" * 4096)
    backdate(store / "tmp", store / "encrypted", seconds=2 * 86400)

    code, out, _ = run("store", "check")
    assert code == 0 and "1 temporary files, 1 folders of datasets that do not exist" in out
    assert "run with --repair" in out and (store / "tmp" / "tmpcrash").exists()
    out = run.ok("store", "check", "--repair", "--older-than", "3d")  # not that old: kept
    assert "kept 2 recent files" in out and (store / "tmp" / "tmpcrash").exists()
    out = run.ok("store", "check", "--repair", "--older-than", "36h")
    assert "removed" in out and not (store / "tmp" / "tmpcrash").exists()
    assert not (store / "encrypted" / "ds-neverwas").exists()
    assert run.ok("store", "check").startswith("checked 2 stored files")
    code, _, err = run("store", "check", "--older-than", "soon")
    assert code == 2 and "--older-than" in err


async def test_the_cli_check_on_a_running_servers_store_stops_its_downloads(call, share, ctx, capsys):
    made = await share()
    ds, table = made["id"], next(f for f in made["files"] if f["path"] == "table.csv")
    url = ("datashare", "d", ds, "files", "table.csv")
    flip(ctx.store.path(table["sha256"]))
    r = await call("GET", *url, anon=True)
    assert r.code == 200 and r.headers["ETag"] == f'"{table["sha256"]}"'  # nothing can tell yet

    code = cli.main(["--root-dir", ctx.settings.root_dir, "--data-dir", ctx.settings.data_dir, "store", "check"])
    out = capsys.readouterr().out
    assert code == 1 and f"DAMAGED {ds} v1 table.csv" in out

    r = await call("GET", *url, anon=True, headers={"Accept": "application/json"})
    assert r.code == 500 and "damaged" in json.loads(r.body)["message"]
    verify = await call.json("GET", "datashare", "api", "audit", "verify")
    assert verify["ok"] is True
    events = (await call.json("GET", "datashare", "api", "audit", params={"action": "file.corrupt"}))["events"]
    assert [e["file"] for e in events] == ["table.csv"]


def test_a_failed_upgrade_is_a_clear_cli_error(tmp_path, capsys):
    from tests.core.test_migrations import make_store

    data_dir, _ = make_store(tmp_path, "0004")
    import sqlite3

    con = sqlite3.connect(data_dir / "datashare.sqlite")
    con.execute("CREATE TABLE _alembic_tmp_datasets (x INTEGER)")  # in the way of 0005's table rebuild
    con.commit()
    con.close()
    code = cli.main(["--root-dir", str(tmp_path), "--data-dir", str(data_dir), "list"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "could not be upgraded from schema 0004" in err and "back up the whole data folder" in err
