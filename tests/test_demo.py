"""The demo a new user starts from: one dataset per level, a pending request, and a walkthrough
notebook that runs top to bottom against the demo's store."""

import json
import os
import sys

import nbformat
from nbclient import NotebookClient

from jupyter_datashare import cli

from .conftest import db_url_for


def test_demo_walkthrough_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jdata"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    db_url = db_url_for(tmp_path / "jdata" / "datashare")  # the demo's default data dir
    if db_url:  # the notebook's kernel reads its database from the config file, as a user's would
        (tmp_path / "jconf").mkdir()
        (tmp_path / "jconf" / "jupyter_config.json").write_text(json.dumps({"DataShareApp": {"db_url": db_url}}))
        monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jconf"))
    demo = tmp_path / "demo"
    assert cli.main(["--root-dir", str(demo), "demo", str(demo)]) == 0
    printed = capsys.readouterr().out
    assert "is waiting for the committee" in printed and "committee link for" in printed
    nb = nbformat.read(demo / "walkthrough.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(demo)}}).execute()
    outputs = "".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "/datashare/r/dsr_" in outputs and "Walkthrough counts" in outputs and "[Data set]" in outputs
