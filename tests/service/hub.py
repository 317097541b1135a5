"""A real JupyterHub for the tests: configurable-http-proxy (npm), DummyAuthenticator,
SimpleLocalProcessSpawner, and the datashare service configured by the shipped
deploy/jupyterhub_config.py, on the test's own ports and folders."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..cluster import free_port
from ..conftest import db_url_for

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "jupyterhub_config.py"
PASSWORD = "datashare-test"


def find_proxy() -> str | None:
    """configurable-http-proxy: $CONFIGURABLE_HTTP_PROXY, where scripts/test-all.sh installs it, on PATH."""
    for candidate in (os.environ.get("CONFIGURABLE_HTTP_PROXY", ""),
                      str(REPO / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"),
                      shutil.which("configurable-http-proxy") or ""):  # fmt: skip
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Hub:
    def __init__(self, base: Path, groups: dict[str, list[str]], user_config: dict[str, dict]):
        self.base = base
        self.port, self.hub_port, self.proxy_api_port, self.service_port = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.port}/"
        self.admin_token = secrets.token_hex(32)
        self.homes = base / "homes"
        self.service_data = base / "service-data"
        self.log_path = base / "hub.log"
        self.proc: subprocess.Popen | None = None
        for d in (self.homes, self.service_data, base / "service-uploads", base / "secrets", base / "service-config"):
            d.mkdir(parents=True, exist_ok=True)
        db_url = db_url_for(self.service_data) or "sqlite:///" + str(self.service_data / "datashare.sqlite")
        self.db_url_file = base / "secrets" / "db_url"
        self.db_url_file.write_text(db_url)
        os.chmod(self.db_url_file, 0o600)
        self.db_url = db_url
        (base / "service-config" / "jupyter_server_config.json").write_text(json.dumps({"DataShareApp": {
            "public_base_url": f"{self.url}services/datashare/", "trusted_proxies": ["127.0.0.1"],
            "failed_lookups_per_client": 1000}}))  # fmt: skip
        for user, config in user_config.items():  # a user's own ~/.jupyter
            (self.homes / user / ".jupyter").mkdir(parents=True)
            (self.homes / user / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(config))
        self.config = base / "jupyterhub_config.py"
        self.config.write_text(f"""
c = get_config()
load_subconfig({str(SHIPPED)!r})
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_port = {self.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{find_proxy()!r}]
c.ConfigurableHTTPProxy.auth_token = {secrets.token_hex(16)!r}
c.JupyterHub.db_url = "sqlite:///{base}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{self.homes}/{{username}}"
c.Spawner.cmd = [{sys.executable!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root", "--ServerApp.jpserver_extensions={{'jupyter_server_terminals': False}}"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.disable_user_config = False  # so that carol's own config is read: it must not matter
c.JupyterHub.load_groups = {json.dumps({g: {"users": u} for g, u in groups.items()})}
c.JupyterHub.services.append({{"name": "tester", "api_token": {self.admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "tester", "services": ["tester"],
    "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups"]}})
""")

    def env(self) -> dict:
        path = os.environ.get("PYTHONPATH", "")
        return dict(
            os.environ,
            DATASHARE_SERVICE_PORT=str(self.service_port),
            DATASHARE_SERVICE_DATA_DIR=str(self.service_data),
            DATASHARE_SERVICE_ROOT_DIR=str(self.base / "service-uploads"),
            DATASHARE_DB_URL_FILE=str(self.db_url_file),
            JUPYTER_DATASHARE_MASTER_KEY_FILE=str(self.base / "secrets" / "master.key"),
            JUPYTER_DATASHARE_SIGNING_KEY_FILE=str(self.base / "secrets" / "signing.key"),
            DATASHARE_SERVICE_CONFIG_DIR=str(self.base / "service-config"),
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO), path) if p),
        )

    def start(self) -> None:
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(self.config)], cwd=self.base,
                                     stdout=log, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited:\n{self.log()}")
            try:
                if httpx.get(self.url + "services/datashare/checkpoint", timeout=5).status_code in (200, 404):
                    if httpx.get(self.url + "hub/api/", timeout=5).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"jupyterhub did not start:\n{self.log()}")

    def log(self, whole: bool = False) -> str:
        text = self.log_path.read_text(errors="replace")
        return text if whole else text[-8000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        # User servers and the service are the hub's children in their own sessions: stop what is left.
        for pid in pids_with_env(f"JUPYTERHUB_API_URL=http://127.0.0.1:{self.hub_port}/".encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- the hub's API, as its administrator ------------------------------------------------

    def api(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, self.url + "hub/api/" + path, headers={"Authorization": f"token {self.admin_token}"},
                             timeout=120, **kw)  # fmt: skip

    def add_users(self, *names: str) -> None:
        r = self.api("POST", "users", json={"usernames": list(names)})
        assert r.status_code in (201, 409), r.text

    def start_server(self, user: str) -> None:
        r = self.api("POST", f"users/{user}/server")
        assert r.status_code in (201, 202), r.text
        self._wait_for(user, ready=True)

    def stop_server(self, user: str) -> None:
        r = self.api("DELETE", f"users/{user}/server")
        assert r.status_code in (202, 204), r.text
        self._wait_for(user, ready=False)

    def _wait_for(self, user: str, ready: bool) -> None:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            model = self.api("GET", f"users/{user}").json()
            server = (model.get("servers") or {}).get("")
            if (bool(server and server.get("ready")) == ready) and not (server or {}).get("pending"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not become {'ready' if ready else 'stopped'}:\n{self.log()}")

    def token_for(self, user: str) -> str:
        r = self.api("POST", f"users/{user}/tokens", json={"note": "test", "expires_in": 3600})
        assert r.status_code in (200, 201), r.text
        return r.json()["token"]


def pids_with_env(needle: bytes) -> list[int]:
    """Processes whose environment holds ``needle`` (the hub's user servers and services)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found
