#!/usr/bin/env bash
# Every test suite, on a fresh machine: installs what is missing, then runs pytest (which also runs
# the panel's Jest tests and the Galata/Playwright browser tests in Debian's Chromium).
#
#   bash scripts/test-all.sh            # everything
#   bash scripts/test-all.sh -k links   # extra arguments go to pytest
#
# This is the README's test line, and CI (.ci/run) runs exactly this. It installs only what is
# missing: Node.js and Chromium from Debian (as root, or with sudo), JupyterLab and the test extras
# from PyPI into the current Python environment, the browser tests' npm packages with jlpm.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Node.js builds the panel (hatch-jupyter-builder runs jlpm); Chromium runs the browser tests.
command -v node >/dev/null 2>&1 || apt_install nodejs
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || apt_install chromium

# JupyterLab gives jlpm and `jupyter lab` to the tests; then the project with its test extras.
python -m pip install --quiet "jupyterlab>=4.6,<5"
python -m pip install --quiet -e ".[test]"

# The browser tests' npm packages; Playwright must not download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd ui-tests && jlpm install)

exec python -m pytest "$@"
