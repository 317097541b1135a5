"""binder/: what repo2docker (Binder) builds the demo image from.

repo2docker builds binder/environment.yml, runs binder/postBuild from the repository root (install
the package, check both extensions, seed the demo with binder/seed-demo) and starts every
container through binder/start. The real build needs Docker; these tests check the files, the
checks postBuild runs, the demo seeding and the start script against this checkout, and render the
Dockerfile when repo2docker is installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
SCRIPTS = ("postBuild", "start", "seed-demo")
LEVELS = ["embargoed", "open", "restricted", "reviewer-only"]


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _conda_deps() -> dict[str, str]:
    """binder/environment.yml's conda dependencies: name -> version spec (e.g. '=3.11', '>=4.6,<5')."""
    env = yaml.safe_load((BINDER / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"][0] == "conda-forge", env["channels"]
    deps = {}
    for dep in env["dependencies"]:
        assert isinstance(dep, str), f"no pip section: postBuild installs the package, got {dep!r}"
        name, spec = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()
        deps[name] = spec.replace(" ", "")
    return deps


def _lab_pins(project: dict) -> set[str]:
    reqs = project["build-system"]["requires"] + project["project"]["optional-dependencies"]["lab"]
    return {r.replace(" ", "")[len("jupyterlab"):] for r in reqs if r.startswith("jupyterlab")}


def _script_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This interpreter's `jupyter` first on PATH, this checkout importable, Jupyter dirs under tmp_path."""
    env = dict(os.environ)
    env.pop("JUPYTERHUB_USER", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    for name in ("data", "config", "runtime"):
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / "jupyter" / name)
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    out.stdout, out.stderr = (re.sub(r"\x1b\[[0-9;]*m", "", s) for s in (out.stdout, out.stderr))
    return out


def test_environment_pins_python_node_and_jupyterlab_consistently():
    deps, project = _conda_deps(), _pyproject()
    assert "pip" in deps
    # python=X.Y: conda's "3.11.*", and the form repo2docker reads the image's Python from.
    python = re.fullmatch(r"=(\d+\.\d+)", deps["python"])
    assert python, f"python should be pinned as python=X.Y, got python{deps['python']}"
    assert Version(python[1]) in SpecifierSet(project["project"]["requires-python"])
    # nodejs: `pip install .` builds the JupyterLab panel with Node (hatch-jupyter-builder, jlpm).
    assert "nodejs" in deps, "nodejs is missing: the JupyterLab panel cannot be built"
    node = re.fullmatch(r"=(\d+)(\.\d+)*", deps["nodejs"]) or re.fullmatch(r">=(\d+)(\.\d+)*,<\d+", deps["nodejs"])
    assert node and int(node[1]) >= 20, f"nodejs should be pinned to a major version >= 20, got {deps['nodejs']!r}"
    # The same JupyterLab as the package is built and tested with.
    assert _lab_pins(project) == {deps["jupyterlab"]}, (_lab_pins(project), deps["jupyterlab"])


def test_scripts_are_executable_bash_with_valid_syntax():
    tracked = {}
    if shutil.which("git") and (ROOT / ".git").exists():
        git = ["git", "ls-files", "-s", "binder"]
        listed = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False)
        tracked = {Path(line.split("\t")[1]).name: line.split()[0] for line in listed.stdout.splitlines()}
    for name in SCRIPTS:
        path = BINDER / name
        assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n"), name
        assert os.access(path, os.X_OK), f"binder/{name} is not executable"
        # A clone (what Binder builds) gets the mode git recorded; repo2docker chmods only postBuild and start.
        assert tracked.get(name, "100755") == "100755", f"git records binder/{name} as {tracked[name]}"
        check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, f"binder/{name}: {check.stderr}"


def test_postbuild_installs_checks_and_seeds_strictly():
    lines = [line.strip() for line in (BINDER / "postBuild").read_text(encoding="utf-8").splitlines()]
    assert "set -euxo pipefail" in lines
    assert "pip install --no-cache-dir ." in lines
    assert "binder/seed-demo demo" in lines
    assert lines.index("pip install --no-cache-dir .") < lines.index("binder/seed-demo demo")


def test_start_ends_with_exec():
    lines = [line.strip() for line in (BINDER / "start").read_text(encoding="utf-8").splitlines()]
    assert [line for line in lines if line and not line.startswith("#")][-1] == 'exec "$@"'


def test_postbuild_extension_checks_pass_on_this_install(tmp_path):
    """The grep checks of postBuild, run as they are against `jupyter ... list` of this environment."""
    lines = (BINDER / "postBuild").read_text(encoding="utf-8").splitlines()
    checks = [line for line in lines if re.match(r"(server_extensions|lab_extensions)=|grep ", line)]
    assert len(checks) >= 4, checks
    out = _run(["bash", "-c", "set -euo pipefail\n" + "\n".join(checks)], ROOT, _script_env(tmp_path))
    assert out.returncode == 0, f"postBuild's extension checks fail here:\n{out.stdout}{out.stderr}"
    assert "jupyter_datashare" in out.stdout and "jupyter-datashare" in out.stdout


def test_repo2docker_dry_run_uses_binder_files(tmp_path):
    pytest.importorskip("repo2docker", reason="repo2docker is not installed here (pip install jupyter-repo2docker)")
    python = re.fullmatch(r"=(\d+\.\d+)", _conda_deps()["python"])[1]
    out = _run([sys.executable, "-m", "repo2docker", "--no-build", "--user-id", "1000", "--user-name", "jovyan",
                str(ROOT)], tmp_path, dict(os.environ), timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    dockerfile = out.stdout
    assert f"Building conda environment for python={python}" in out.stderr, out.stderr
    assert "src/binder/environment.yml ${REPO_DIR}/binder/environment.yml" in dockerfile
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile
    # postBuild runs as the image's user, after the repository is copied in.
    assert dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/") < dockerfile.index("RUN ./binder/postBuild")
    assert dockerfile.rindex("USER ${NB_USER}") < dockerfile.index("RUN ./binder/postBuild")


def _datasets(out: subprocess.CompletedProcess) -> list[str]:
    assert out.returncode == 0, out.stdout + out.stderr
    return sorted(d["access"]["level"] for d in json.loads(out.stdout)["datasets"])


@pytest.mark.timeout(600)
def test_seeded_demo_and_start_as_on_binder(tmp_path):
    """postBuild's seeding step, then binder/start, on a copy of binder/ (the package is already installed)."""
    repo = tmp_path / "repo"
    shutil.copytree(BINDER, repo / "binder")
    env = _script_env(tmp_path)
    seed = next(line for line in (BINDER / "postBuild").read_text(encoding="utf-8").splitlines()
                if line.startswith("binder/seed-demo"))  # fmt: skip
    demo = repo / "demo"

    made = _run(shlex.split(seed), repo, env)
    assert made.returncode == 0, made.stdout + made.stderr
    created = re.findall(r"^ds-\S+\s+(\S+)\s+.*created: ", made.stdout, re.MULTILINE)
    assert sorted(created) == LEVELS, made.stdout
    assert (demo / "walkthrough.ipynb").is_file()
    links = (demo / "demo-links.txt").read_text(encoding="utf-8")
    assert "/datashare/r/dsr_" in links and "/datashare/c/dsc_" in links, links
    assert re.search(r"access request req-\S+ is waiting for the committee", links), links

    # Seeding again adds nothing and keeps the links, which cannot be shown again.
    again = _run(shlex.split(seed), repo, env)
    assert again.returncode == 0 and "created: " not in again.stdout, again.stdout + again.stderr
    assert (demo / "demo-links.txt").read_text(encoding="utf-8") == links

    # start enters the demo folder and execs the command (its exit status comes through).
    cmd = [sys.executable, "-c", "import os, sys; print(os.getcwd()); sys.exit(7)"]
    started = _run(["binder/start", *cmd], repo, env)
    assert started.returncode == 7, started.stdout + started.stderr
    assert Path(started.stdout.strip()).resolve() == demo.resolve()

    # On Binder the owner is the hub user, known only at start: start shares the demo for them.
    owned = [sys.executable, "-m", "jupyter_datashare.cli", "list", "--json"]
    assert _datasets(_run(owned, demo, env)) == LEVELS
    hub = dict(env, JUPYTERHUB_USER="binder-demo-3f9k2")
    assert _datasets(_run(owned, demo, hub)) == []
    assert _datasets(_run(["binder/start", *owned], repo, hub)) == LEVELS
    assert "owner binder-demo-3f9k2)" in (demo / "demo-links.txt").read_text(encoding="utf-8")
