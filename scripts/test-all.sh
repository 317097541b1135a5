#!/usr/bin/env bash
# Every test suite, on a fresh machine: installs what is missing, then runs pytest (which also runs
# the panel's Jest tests and the Galata/Playwright browser tests in Debian's Chromium).
#
#   bash scripts/test-all.sh            # everything, on SQLite and then on PostgreSQL
#   bash scripts/test-all.sh -k links   # extra arguments go to pytest (both runs)
#
# This is the README's test line, and CI (.ci/run) runs exactly this. It installs only what is
# missing: Node.js, Chromium and nginx from Debian (as root, or with sudo), JupyterLab and the test extras
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
# nginx is the reverse proxy of the several-processes test (tests/test_processes.py); Debian puts it
# in /usr/sbin, which may not be on PATH.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx

# JupyterLab gives jlpm and `jupyter lab` to the tests; then the project with its test extras.
python -m pip install --quiet "jupyterlab>=4.6,<5"
python -m pip install --quiet -e ".[test]"

# JupyterHub's proxy for the hub end-to-end test (tests/service/test_jupyterhub.py), in the
# repository's own node_modules (no global npm install).
[ -x .ci/node/node_modules/.bin/configurable-http-proxy ] || \
  npm install --silent --no-audit --no-fund --prefix .ci/node configurable-http-proxy@5

# The browser tests' npm packages; Playwright must not download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd ui-tests && jlpm install)

# 1. Everything on SQLite (the default database), browser tests included.
status=0
python -m pytest "$@" || status=$?

# 2. The suite again on PostgreSQL: scripts/postgres.sh installs Debian's postgresql if missing and
# runs a throw-away cluster, each test gets a database of its own (DATASHARE_TEST_DB_URL). Left out:
# the browser tests (run once, above) and the packaging tests, which build and install the project
# and never open a database.
bash scripts/postgres.sh run -- python -m pytest "$@" \
  --ignore=tests/test_ui.py --ignore=tests/test_binder.py --ignore=tests/test_packaging.py || status=$?
exit $status
