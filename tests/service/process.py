"""``jupyter datashare serve`` as a real process, for the tests that talk to it over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from jupyter_datashare.core import api_tokens
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

from ..conftest import db_url_for

REPO = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"jupyter-datashare service at http://127\.0\.0\.1:(\d+)/")


class Service:
    """``jupyter datashare serve --port 0`` on a data dir of the test's own."""

    def __init__(self, tmp_path: Path, *config: str):
        self.root, self.data, self.log = tmp_path / "root", tmp_path / "data", tmp_path / "service.log"
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url_for(self.data)
        self.config = config
        self.proc: subprocess.Popen | None = None

    def core(self) -> DataShare:
        return DataShare(Settings(root_dir=str(self.root), data_dir=str(self.data), db_url=self.db_url, owner="admin"))

    def token(self, username: str) -> str:
        core = self.core()
        try:
            return api_tokens.issue(core, "admin:test", username)[1]
        finally:
            core.close()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", str(self.root), "--data-dir", str(self.data),
               *(["--db-url", self.db_url] if self.db_url else []), "serve", "--port", "0", *self.config]  # fmt: skip
        out = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = ADDRESS.search(self.log.read_text())
            if found:
                self.port = int(found.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the service did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)

    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), data

    def json(self, *args, **kwargs):
        status, _, data = self.call(*args, **kwargs)
        return status, json.loads(data)
