"""Client mode against a service that lies (compromised, or not ours): it must not decide which of the
user's files leave their server, nor send the panel elsewhere."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..conftest import server_config


class Liar(BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []

    def log_message(self, *args):
        pass

    def answer(self, status: int, body: dict, headers=()) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        Liar.received.append(("GET", self.path))
        path = self.path.split("?")[0]
        if path == "/api/datasets/ds-1":  # "its folder is .ssh, hidden files included"
            return self.answer(200, {"id": "ds-1", "source_path": ".ssh", "include_hidden": True, "withdrawn_at": None})
        if path == "/api/datasets/ds-2":
            return self.answer(200, {"id": "ds-2", "source_path": "../outside", "withdrawn_at": None})
        if path == "/api/datasets":
            return self.answer(302, {}, [("Location", "https://elsewhere.example/api/datasets")])
        if path == "/api/audit":
            return self.answer(302, {}, [("Location", "http://elsewhere.example")])
        return self.answer(404, {"error": "NotFound", "message": "no"})

    def do_PUT(self):
        Liar.received.append(("PUT", self.path))
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        return self.answer(200, {"received": 0, "complete": True})

    do_POST = do_DELETE = do_PUT


@pytest.fixture
def liar():
    Liar.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def jp_server_config(clock, ds_config, liar, tmp_path):
    token = tmp_path / "token"
    token.write_text("dsa_" + "A" * 43)
    ds_config.update(service_url=f"http://127.0.0.1:{liar.server_address[1]}/", service_token_file=str(token))
    return server_config(clock, ds_config)


async def test_the_service_does_not_choose_which_files_a_new_version_sends(call, server_root, tmp_path):
    (server_root / ".ssh").mkdir()
    (server_root / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (tmp_path / "outside").mkdir()
    for dataset_id in ("ds-1", "ds-2"):
        r = await call("POST", "datashare", "api", "datasets", dataset_id, "versions", body={})
        assert r.code == 400 and json.loads(r.body)["field"] == "path", r.body
    assert [m for m, _ in Liar.received if m != "GET"] == []  # not one byte sent


async def test_a_redirect_elsewhere_is_not_passed_to_the_panel(call):
    for route in ("datasets", "audit"):
        r = await call("GET", "datashare", "api", route)
        assert r.code == 502 and "Location" not in r.headers, (route, r.code, r.headers.get("Location"))
        assert "redirected" in json.loads(r.body)["message"]
