"""The dataset and link commands in client mode: the same commands, against a real service."""

from __future__ import annotations

import re
import urllib.request

import pytest

from jupyter_datashare import cli

from .service.process import Service


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path / "service")
    s.token_file = tmp_path / "token"
    s.token_file.write_text(s.token("alice"))
    s.start()
    yield s
    s.stop()


def run(capsys, service, root, *argv) -> tuple[int, str, str]:
    code = cli.main(["--root-dir", str(root), f"--DataShareApp.service_url=http://127.0.0.1:{service.port}/",
                     f"--DataShareApp.service_token_file={service.token_file}", *argv])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def test_share_link_version_and_withdraw_against_the_service(capsys, tmp_path, service):
    root = tmp_path / "work"
    (root / "results").mkdir(parents=True)
    (root / "results" / "table.csv").write_text("a,b\n1,2\n")
    base = f"http://127.0.0.1:{service.port}/"

    code, out, err = run(capsys, service, root, "share", "results", "--title", "Results", "--level", "reviewer-only")
    assert code == 0, err
    dataset_id = re.search(r"shared (ds-\w+): Results \(reviewer-only, version 1, 1 files\)", out).group(1)

    code, out, err = run(capsys, service, root, "link", "create", dataset_id, "--label", "R1")
    assert code == 0, err
    url = out.splitlines()[0]
    assert re.fullmatch(re.escape(base) + r"r/dsr_[A-Za-z0-9_-]{43}", url)
    with urllib.request.urlopen(url + "/files/table.csv", timeout=30) as r:
        assert r.read() == b"a,b\n1,2\n"

    (root / "results" / "more.csv").write_text("c\n3\n")
    code, out, err = run(capsys, service, root, "version", dataset_id)
    assert code == 0 and f"published version 2 of {dataset_id}: 2 files" in out, (out, err)

    code, out, _ = run(capsys, service, root, "show", dataset_id)
    assert "owner alice" in out and "more.csv" in out and f"landing page: {base}d/{dataset_id}" in out
    code, out, _ = run(capsys, service, root, "link", "list", dataset_id)
    assert "R1" in out and "active" in out
    code, out, _ = run(capsys, service, root, "cite", dataset_id, "--format", "bibtex")
    assert code == 0 and "Results" in out

    code, out, err = run(capsys, service, root, "share", "results", "--title", "")
    assert code == 2 and err.startswith("error: title:"), err  # the service names the field
    code, out, err = run(capsys, service, root, "withdraw", dataset_id, "--reason", "superseded")
    assert code == 0, err
    code, out, _ = run(capsys, service, root, "list", "--all")
    assert "withdrawn" in out


def test_a_missing_token_file_is_named(capsys, tmp_path, service):
    service.token_file.unlink()
    code, _, err = run(capsys, service, tmp_path, "list")
    assert code == 2 and "service_token_file" in err
