"""One configuration: the server, the CLI and the notebook API read the same c.DataShareApp.* options."""

from __future__ import annotations

import ast
import json
from dataclasses import fields
from pathlib import Path

import pytest

import jupyter_datashare as ds
from jupyter_datashare import cli, config
from jupyter_datashare.config import DataShareConfig
from jupyter_datashare.core.errors import InvalidInput
from jupyter_datashare.core.settings import Settings
from jupyter_datashare.server.app import DataShareApp

from .conftest import OWNER, db_url_for

PACKAGE = Path(config.__file__).parent


@pytest.fixture
def configured(jp_environ, jp_config_dir, tmp_path, server_root):
    """A jupyter_server_config.py in the (temporary) Jupyter config dir, as a user would write it."""
    data = tmp_path / "configured-data"
    (jp_config_dir / "jupyter_server_config.py").write_text(
        f"c.ServerApp.root_dir = {str(server_root)!r}\n"
        f"c.DataShareApp.data_dir = {str(data)!r}\n"
        f"c.DataShareApp.owner = {OWNER!r}\n"
        "c.DataShareApp.max_link_days = 7\n"
    )
    return data


@pytest.fixture
def jp_server_config(jp_server_config, configured):  # the file exists before the server starts
    return jp_server_config


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_server_cli_and_notebook_read_the_same_configuration_file(configured, call, share, ctx, tmp_path,
                                                                        capsys, monkeypatch):  # fmt: skip
    assert ctx.settings.data_dir == str(configured) and ctx.settings.max_link_days == 7
    dataset = (await share())["id"]
    r = await call("POST", "datashare", "api", "datasets", dataset, "links", body={"expires_in_days": 60})
    assert r.code == 400
    refusal = json.loads(r.body)["message"]
    assert refusal == "expires_in_days: must be at most 7 days"

    monkeypatch.chdir(tmp_path)  # not the root: the root comes from c.ServerApp.root_dir
    # The CLI, with no flag at all, finds the server's dataset (same data dir, same owner)...
    code, out, err = run_cli(capsys, "link", "create", dataset, "--days", "60")
    assert (code, out, err) == (2, "", f"error: {refusal}\n")
    code, out, _ = run_cli(capsys, "link", "create", dataset, "--days", "7")
    assert code == 0 and "/datashare/r/dsr_" in out
    code, out, _ = run_cli(capsys, "show", dataset, "--json")
    assert code == 0 and json.loads(out)["source_path"] == "data"

    # ...and so does the notebook API (in-process, as a kernel would run it).
    nb = ds.connect()
    try:
        assert nb.core.settings.data_dir == str(configured) and nb.core.settings.root_dir == ctx.settings.root_dir
        with pytest.raises(InvalidInput) as info:
            ds.link(dataset, days=60)
        assert str(info.value) == refusal
        assert ds.link(dataset, days=7).url
    finally:
        nb.close()
    assert len(ctx.audit.events(action="link.created")) == 2


async def test_what_the_command_line_says_wins_over_the_file(configured, share, ctx, tmp_path, capsys):
    dataset = (await share())["id"]
    code, out, err = run_cli(capsys, "link", "create", dataset, "--days", "60", "--DataShareApp.max_link_days=90")
    assert code == 0, err
    code, out, err = run_cli(capsys, "link", "create", dataset, "--DataShareApp.max_link_days", "90", "--days", "60")
    assert code == 0, err
    elsewhere = tmp_path / "elsewhere"
    code, _, err = run_cli(capsys, "--data-dir", str(elsewhere), "show", dataset)
    assert code == 2 and err.startswith("error: ")  # another store, without that dataset
    assert (elsewhere / "audit-signing.key").exists()  # that store was opened
    assert (elsewhere / "datashare.sqlite").exists() or db_url_for(elsewhere)  # with its own database
    nb = ds.connect(data_dir=str(elsewhere))
    try:
        assert nb.core.settings.data_dir == str(elsewhere)
    finally:
        nb.close()


def test_a_json_config_file_counts_too_and_a_shorter_maximum_lowers_the_default(jp_environ, jp_config_dir, tmp_path,
                                                                                 capsys):  # fmt: skip
    (tmp_path / "root" / "survey").mkdir(parents=True)
    (tmp_path / "root" / "survey" / "a.csv").write_text("a\n1\n")
    (jp_config_dir / "jupyter_server_config.json").write_text(json.dumps(
        {"DataShareApp": {"data_dir": str(tmp_path / "data"), "max_link_days": 7}}))  # fmt: skip
    base = ["--root-dir", str(tmp_path / "root")]
    code, out, err = run_cli(capsys, *base, "share", "survey", "--title", "T")
    assert code == 0, err
    dataset = out.split()[1].rstrip(":")
    assert run_cli(capsys, *base, "link", "create", dataset, "--days", "60")[0] == 2
    code, out, _ = run_cli(capsys, *base, "link", "list", dataset, "--json")
    assert json.loads(out)["links"] == []
    # Only a maximum was set: the default lifetime (30 days) shrinks to it instead of failing.
    assert config.load().core_settings("/").default_link_days == 7
    code, out, err = run_cli(capsys, *base, "link", "create", dataset)
    assert code == 0, err
    # Both set, contradicting each other: said plainly, naming the option.
    code, _, err = run_cli(capsys, *base, "--DataShareApp.default_link_days=30", "list")
    assert code == 2 and err == "error: DataShareApp.default_link_days: must not exceed max_link_days (7)\n"


def test_every_option_is_declared_once(monkeypatch, tmp_path):
    shared = DataShareConfig.class_traits(config=True)
    server = DataShareApp.class_traits(config=True)
    assert shared and all(server[name] is trait for name, trait in shared.items())  # the very same traits
    assert DataShareApp.class_own_traits() == {}  # the server declares none of its own
    # Every core setting comes from an option, with the option's default as its own default.
    for name in ("JUPYTERHUB_USER", "JUPYTER_DATASHARE_MASTER_KEY", "JUPYTER_DATASHARE_MASTER_KEY_FILE",
                 "JUPYTER_DATASHARE_SIGNING_KEY_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    names = {f.name for f in fields(Settings)} - {"root_dir", "many_owners"}  # the adapter's, not options
    assert names <= set(shared)
    assert DataShareConfig().core_settings(str(tmp_path)) == Settings(root_dir=str(tmp_path))
    # The adapters build no settings by hand and declare no options of their own.
    for module in ("cli/__init__.py", "cli/datasets.py", "cli/audit.py", "notebook.py", "server/app.py"):
        tree = ast.parse((PACKAGE / module).read_text())
        calls = {getattr(n.func, "id", None) or getattr(n.func, "attr", None) for n in ast.walk(tree)
                 if isinstance(n, ast.Call)}  # fmt: skip
        assert not calls & {"Settings", "tag", "Unicode", "Int", "Float", "Bool", "List", "Instance"}, module


def test_a_mistyped_option_or_a_bad_value_is_named_not_ignored(jp_environ, jp_config_dir, tmp_path, capsys):
    base = ["--root-dir", str(tmp_path), "--data-dir", str(tmp_path / "datashare-data")]
    code, out, err = run_cli(capsys, *base, "list", "--DataShareApp.max_link_day=90")
    assert (code, out) == (2, "") and err == ("error: --DataShareApp.max_link_day: is not an option of DataShareApp "
                                              "(did you mean max_link_days?)\n")  # fmt: skip
    (jp_config_dir / "jupyter_server_config.py").write_text("c.DataShareApp.max_link_days = 'a week'\n")
    code, out, err = run_cli(capsys, *base, "list")
    assert (code, out) == (2, "") and err.startswith("error: DataShareApp.max_link_days: ") and "expected an int" in err
    assert not (tmp_path / "datashare-data").exists()  # nothing was opened, let alone written


def test_printed_links_use_the_configured_public_url_like_the_server_s_own(jp_environ, jp_config_dir, tmp_path, capsys):
    (tmp_path / "root" / "survey").mkdir(parents=True)
    (tmp_path / "root" / "survey" / "a.csv").write_text("a\n1\n")
    (jp_config_dir / "jupyter_server_config.py").write_text(
        f"c.ServerApp.root_dir = {str(tmp_path / 'root')!r}\n"
        f"c.ServerApp.base_url = '/jupyter/'\n"
        f"c.DataShareApp.data_dir = {str(tmp_path / 'datashare-data')!r}\n"
        "c.DataShareApp.public_base_url = 'https://data.example.org'\n"
    )
    code, out, err = run_cli(capsys, "share", "survey", "--title", "T", "--level", "embargoed",
                             "--embargo-until", "2099-01-01")  # fmt: skip
    assert code == 0, err
    dataset = out.split()[1].rstrip(":")
    # public_base_url is the public address of the base_url: /jupyter/ is not repeated after it.
    assert f"landing page: https://data.example.org/datashare/d/{dataset}\n" in out
    code, out, _ = run_cli(capsys, "link", "create", dataset)
    assert code == 0 and out.startswith("https://data.example.org/datashare/r/dsr_")
    code, out, _ = run_cli(capsys, "--base-url", "http://127.0.0.1:9999/", "link", "create", dataset)
    assert code == 0 and out.startswith("http://127.0.0.1:9999/datashare/r/dsr_")  # the flag wins
    nb = ds.connect()
    try:
        link = ds.link(dataset)
        assert link.url.startswith("https://data.example.org/datashare/r/dsr_")
        assert ds.read(link.url)["a"].tolist() == [1]  # and the notebook reads its own links back
    finally:
        nb.close()
