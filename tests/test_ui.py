"""The JupyterLab panel: its Jest unit tests and its browser tests, run from the Python suite.

The browser tests (ui-tests/, Galata/Playwright) drive Debian's Chromium (/usr/bin/chromium)
against a real `jupyter lab` they start themselves; `.ci/run` installs Chromium and the npm
dependencies on a clean machine. Nothing here is skipped: a missing tool is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LABEXTENSION = ROOT / "labextension"
UI_TESTS = ROOT / "ui-tests"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    env["CI"] = env.get("CI", "1")
    env["FORCE_COLOR"] = "0"
    # The tools below run from this interpreter's environment (jlpm, jupyter lab).
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def _jlpm() -> str:
    jlpm = shutil.which("jlpm", path=str(Path(sys.executable).parent)) or shutil.which("jlpm")
    assert jlpm, "jlpm (from JupyterLab) is missing: pip install 'jupyterlab>=4.6,<5' (.ci/run does)"
    return jlpm


def _run(args: list[str], cwd: Path, timeout: int, **env: str) -> str:
    out = subprocess.run(
        args, check=False, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=timeout
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    # Which tests failed, first: a DOM dump can fill the whole tail of the output.
    failed = [line for line in text.splitlines() if re.match(r"\s*(✕|✘|FAIL |● .+ › )", line)]
    assert out.returncode == 0, (f"{' '.join(args)} failed in {cwd} (exit {out.returncode}):\n"
                                 + "\n".join(failed[:40]) + f"\n...\n{text[-12000:]}")  # fmt: skip
    return text


def _ensure_node_modules(folder: Path) -> None:
    if not (folder / "node_modules").is_dir():
        _run([_jlpm(), "install"], folder, timeout=900)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_labextension_is_installed_and_enabled():
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"jupyter-datashare v\S+ enabled\s+OK", text), text


@pytest.mark.timeout(1200)
def test_frontend_unit_tests_pass():
    """Jest: the API client, error-to-field mapping, formatting, chart bucketing, the share form."""
    _ensure_node_modules(LABEXTENSION)
    out = _run([_jlpm(), "test", "--ci"], LABEXTENSION, timeout=900)
    assert re.search(r"Tests:\s+\d+ passed, \d+ total", out), out[-4000:]
    assert "failed" not in re.search(r"Tests:.*", out).group(0), out[-4000:]


@pytest.mark.timeout(1500)
def test_browser_tests_pass():
    """Galata/Playwright with Debian's Chromium against a real JupyterLab (see ui-tests/)."""
    assert os.access(CHROMIUM, os.X_OK), (
        f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium (.ci/run does)"
    )
    _ensure_node_modules(UI_TESTS)
    out = _run(
        [_jlpm(), "playwright", "test", "--reporter=list"],
        UI_TESTS,
        timeout=1200,
        DATASHARE_UI_PORT=str(_free_port()),
        CHROMIUM_PATH=CHROMIUM,
    )
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 3, out[-6000:]
    assert not re.search(r"\d+ (failed|flaky|skipped|did not run)", out), out[-6000:]
    # The public pages are driven by the browser too (public-forms.spec.ts): every public form.
    assert re.search(r"(✓|ok) .*public-forms\.spec\.ts.*committee approves", out), out[-6000:]
    assert re.search(r"(✓|ok) .*public-forms\.spec\.ts.*on a phone", out), out[-6000:]
    shots = UI_TESTS / "test-results" / "screenshots"
    assert (shots / "jupyterlab-panel-and-audit.png").is_file(), "the tests save screenshots of the panel"
    for page in ("public-request-form", "public-status-approved", "public-committee-page", "phone-request-form"):
        assert (shots / f"{page}.png").is_file(), f"the tests save a screenshot of {page}"
