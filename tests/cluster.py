"""Several real ``jupyter server`` processes on one database and one store, behind a real nginx.

A launcher for tests and benchmarks (no pytest needed)::

    from tests.cluster import Cluster

    with Cluster(tmp_path, db_url, processes=2) as c:   # db_url "": SQLite in c.data_dir
        c.url                 # "http://127.0.0.1:PORT/": nginx, round-robin over the processes
        c.servers[0].url      # one process directly (its own loopback port)
        c.token, c.headers    # the owner's token, {"Authorization": "token …"}
        c.root_dir            # the Jupyter root every process shares (files to share go here)
        c.data_dir            # the one data dir: store, keys, SQLite database
        c.kill(0)             # SIGKILL that process (nginx keeps routing to the others)
        c.restart(0)          # start it again, same port, same database and store
        c.access_log()        # nginx's access log, one dict per request (see LOG_FIELDS)
        c.logs()              # every process's output and nginx's error log, for failure messages

Every process gets ``--allow-root``, the extension enabled (terminals off), one token for the
owner (``OWNER``, the suite's ``owner_identities``), the suite's identity provider (so
``bob-token`` and ``carol-token`` are committee members), ``trusted_proxies = ["127.0.0.1"]``
(nginx) and ``public_base_url`` = nginx's URL. The first process starts alone (it creates or
upgrades the schema), the others then start together. On leaving the ``with`` block every process
is stopped (SIGTERM, then SIGKILL) and, for a cluster that made its own temporary folder
(``base=None``), the folder is removed.

nginx comes from Debian (``apt-get install nginx``; scripts/test-all.sh installs it). It runs in
the foreground (``daemon off``) with its pid, logs and temporary files in the cluster's folder;
as root its workers stay root (they must reach that folder). ``proxy_buffering off``: a client that
received bytes means the server sent them. ``proxy_next_upstream error timeout``: a request is
passed to another process only if it could not be sent or got no answer header, and nginx never
does that for a non-idempotent request (POST, PATCH) once it was sent, so nothing is replayed.
No upstream keep-alive: each request opens its own connection, so a kill fails only the requests
open on the killed process, or sent to it while it was dying (between the SIGKILL and the reaping
that ``kill`` waits for, the kernel still completes connections to its listening socket, then
resets them; such a POST is lost, not replayed).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

OWNER = "ada-owner"
REPO = Path(__file__).resolve().parent.parent
IDENTITIES = "tests.server.identities.ThreeUsers"  # owner by the cluster's token, bob/carol by theirs
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
# What the access log records per request (JSON lines). ``id`` is the client's X-Test-Id header,
# ``upstream`` every process tried ("127.0.0.1:1, 127.0.0.1:2" when nginx passed it on).
LOG_FIELDS = {
    "id": "$http_x_test_id", "xff": "$http_x_forwarded_for", "method": "$request_method", "uri": "$uri",
    "status": "$status", "upstream": "$upstream_addr", "upstream_status": "$upstream_status",
    "bytes": "$body_bytes_sent", "end": "$msec", "seconds": "$request_time",
}  # fmt: skip


class NginxMissing(RuntimeError):
    """No nginx binary here: install Debian's (``apt-get install nginx``)."""


def find_nginx() -> str:
    """The nginx binary (``$NGINX`` first; Debian puts it in /usr/sbin, often not on PATH)."""
    for candidate in (os.environ.get("NGINX", ""), shutil.which("nginx") or "", *NGINX_PATHS):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise NginxMissing(
        "nginx is not installed (looked on PATH and in " + ", ".join(NGINX_PATHS) + "): install Debian's "
        "with `apt-get install -y nginx` (scripts/test-all.sh does), or set $NGINX to its path"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClusterError(RuntimeError):
    """A process or nginx did not start; the message carries its log."""


@dataclass
class Server:
    """One ``jupyter server`` process of the cluster."""

    index: int
    port: int
    log_path: Path
    runtime_dir: Path
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def address(self) -> str:
        """How nginx names it in ``$upstream_addr``."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    """``processes`` jupyter servers on one database (``db_url``; "" is SQLite in the data dir) and
    one data dir, behind one nginx. ``ds_config`` adds or overrides ``c.DataShareApp`` options,
    ``server_config`` ``c.ServerApp`` ones. ``base``: the folder to work in (None: a temporary one,
    removed at exit)."""

    base: Path | str | None = None
    db_url: str = ""
    processes: int = 2
    ds_config: dict = field(default_factory=dict)
    server_config: dict = field(default_factory=dict)
    start_timeout: float = 120.0
    identity_provider: str = IDENTITIES
    token: str = field(default_factory=lambda: secrets.token_hex(24))

    def __post_init__(self):
        self._own_base = self.base is None
        self.base = Path(tempfile.mkdtemp(prefix="datashare-cluster-") if self.base is None else self.base)
        self.dir = self.base / "cluster"
        self.root_dir = self.dir / "root"
        self.data_dir = self.dir / "data"
        self.config_dir = self.dir / "config"
        self.nginx_dir = self.dir / "nginx"
        for d in (self.root_dir, self.data_dir, self.config_dir, self.nginx_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.nginx_bin = find_nginx()
        self.nginx_port = free_port()
        self.servers = [Server(i, free_port(), self.dir / f"server-{i}.log", self.dir / f"runtime-{i}")
                        for i in range(self.processes)]  # fmt: skip
        self.nginx: subprocess.Popen | None = None

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """nginx's URL: the public base URL of every process."""
        return f"http://127.0.0.1:{self.nginx_port}/"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    # -- life cycle --------------------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._write_config()
        first, *others = self.servers
        self._spawn(first)  # alone: it creates (or upgrades) the schema
        self._wait_ready(first)
        for s in others:
            self._spawn(s)
        for s in others:
            self._wait_ready(s)
        self._start_nginx()

    def stop(self) -> None:
        for s in self.servers:
            if s.alive:
                _signal(s.proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for s in self.servers:
            _reap(s.proc, deadline)
        if self.nginx is not None and self.nginx.poll() is None:
            _signal(self.nginx, signal.SIGQUIT)  # graceful: lets the workers finish
            _reap(self.nginx, time.monotonic() + 10)
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def kill(self, index: int) -> None:
        """SIGKILL one process (no clean-up of any kind, as a crash or an OOM kill)."""
        s = self.servers[index]
        _signal(s.proc, signal.SIGKILL)
        s.proc.wait(timeout=30)

    def restart(self, index: int) -> None:
        """Start a stopped or killed process again, on the same port, database and store."""
        s = self.servers[index]
        if s.alive:
            raise ClusterError(f"process {index} is still running")
        self._spawn(s)
        self._wait_ready(s)

    # -- logs --------------------------------------------------------------------------------

    def access_log(self) -> list[dict]:
        """nginx's access log so far: one dict per finished request (keys of LOG_FIELDS; ``status``
        an int, ``end`` and ``seconds`` floats, ``upstream`` a list of addresses tried)."""
        path = self.nginx_dir / "access.log"
        rows = []
        for line in path.read_text().splitlines() if path.exists() else ():
            row = json.loads(line)
            row["status"] = int(row["status"])
            row["end"], row["seconds"] = float(row["end"]), float(row["seconds"])
            row["upstream"] = [a.strip() for a in row["upstream"].replace(" : ", ", ").split(",") if a.strip()]
            rows.append(row)
        return rows

    def logs(self, tail: int = 4000) -> str:
        """The end of every process's output and of nginx's error log."""
        parts = [f"--- process {s.index} (port {s.port}, pid {s.pid}) ---\n{s.log()[-tail:]}" for s in self.servers]
        err = self.nginx_dir / "error.log"
        parts.append(f"--- nginx error log ---\n{err.read_text(errors='replace')[-tail:] if err.exists() else ''}")
        return "\n".join(parts)

    # -- internals ---------------------------------------------------------------------------

    def _write_config(self) -> None:
        config = {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_datashare": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": self.identity_provider,
                "open_browser": False,
                "ip": "127.0.0.1",
                "port_retries": 0,
                "root_dir": str(self.root_dir),
                **self.server_config,
            },
            "IdentityProvider": {"token": self.token},
            "DataShareApp": {
                "owner": OWNER,
                "owner_identities": [OWNER],
                "data_dir": str(self.data_dir),
                "db_url": self.db_url,
                "trusted_proxies": ["127.0.0.1"],
                "public_base_url": self.url,
                **self.ds_config,
            },
        }
        (self.config_dir / "jupyter_server_config.json").write_text(json.dumps(config, indent=1))

    def _env(self, s: Server) -> dict:
        path = os.environ.get("PYTHONPATH", "")
        return dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_RUNTIME_DIR=str(s.runtime_dir),  # each its own: server files, cookie secret
            JUPYTER_DATA_DIR=str(self.dir / "jupyter-data"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO), path) if p),  # the identity provider
        )

    def _spawn(self, s: Server) -> None:
        cmd = [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", f"--ServerApp.port={s.port}"]
        s.starts += 1
        with open(s.log_path, "a") as log:
            log.write(f"=== start {s.starts}: {' '.join(cmd)}\n")
            log.flush()
            s.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self._env(s), cwd=REPO,
                                      start_new_session=True)  # fmt: skip

    def _wait_ready(self, s: Server) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not s.alive:
                raise ClusterError(f"process {s.index} exited with status {s.proc.returncode}:\n{s.log()[-6000:]}")
            if _get(s.url + "api/status", self.headers) == 200:
                return
            time.sleep(0.2)
        raise ClusterError(f"process {s.index} was not serving {self.start_timeout:.0f} s later:\n{s.log()[-6000:]}")

    def _start_nginx(self) -> None:
        d = self.nginx_dir
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(exist_ok=True)
        upstreams = "\n".join(f"        server {s.address} fail_timeout=2s;" for s in self.servers)
        fmt = json.dumps(LOG_FIELDS)
        user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the folder (mode 0700)
        conf = f"""
daemon off;
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 4096; }}
http {{
    log_format datashare escape=json '{fmt}';
    access_log {d}/access.log datashare;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 16m;
    upstream datashare {{
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location / {{
            proxy_pass http://datashare;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 120s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""
        (d / "nginx.conf").write_text(conf)
        log = open(d / "nginx.out", "a")
        cmd = [self.nginx_bin, "-p", str(d), "-e", str(d / "error.log"), "-c", str(d / "nginx.conf")]
        self.nginx = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                raise ClusterError(f"nginx exited with status {self.nginx.returncode}:\n{self.logs()}\n"
                                   f"{(d / 'nginx.out').read_text(errors='replace')}")  # fmt: skip
            if _get(self.url + "api/status", self.headers) == 200:
                return
            time.sleep(0.1)
        raise ClusterError(f"nginx was not serving 30 s later:\n{self.logs()}")


def _get(url: str, headers: dict) -> int | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _signal(proc: subprocess.Popen | None, sig: int) -> None:
    """Signal a process we started and its process group (it leads one: start_new_session)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _reap(proc: subprocess.Popen | None, deadline: float) -> None:
    if proc is None:
        return
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL)
        proc.wait(timeout=30)
