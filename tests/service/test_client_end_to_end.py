"""Standalone end to end, every part a real process: the service on a port with alice's token;
a plain ``jupyter server`` in client mode shares and makes a review link; that server is stopped;
the link keeps working at the service."""

from __future__ import annotations

import json
import re
import urllib.request

from ..cluster import Cluster
from .process import Service

TABLE = b"site,value\nA,10\nB,20\n"


def _post(url: str, headers: dict, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 201
        return json.loads(r.read())


def test_a_link_made_in_client_mode_outlives_the_jupyter_server(tmp_path):
    service = Service(tmp_path / "service")
    token = service.token("alice")
    service.start()
    try:
        _share_then_stop_jupyter(tmp_path, service, token)
    finally:
        service.stop()


def _share_then_stop_jupyter(tmp_path, service: Service, token: str) -> None:
    token_file = tmp_path / "alice.token"
    token_file.write_text(token)
    service_url = f"http://127.0.0.1:{service.port}/"
    cluster = Cluster(base=tmp_path / "jupyter", processes=1,
                      ds_config={"service_url": service_url, "service_token_file": str(token_file)})  # fmt: skip
    try:
        cluster.start()
        server = cluster.servers[0]
        (cluster.root_dir / "study").mkdir()
        (cluster.root_dir / "study" / "table.csv").write_bytes(TABLE)
        out = _post(server.url + "datashare/api/datasets", cluster.headers,
                    {"path": "study", "title": "Field study", "access": {"level": "reviewer-only"}})  # fmt: skip
        assert out["owner"] == "alice" and out["landing_page"] == f"{service_url}d/{out['id']}"
        link = _post(server.url + f"datashare/api/datasets/{out['id']}/links", cluster.headers, {"label": "R1"})
        assert re.fullmatch(re.escape(service_url) + r"r/dsr_[A-Za-z0-9_-]{43}", link["url"])

        # What the Jupyter server holds: no database, no store, no key; the token only in its file.
        with open(f"/proc/{server.pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{server.pid}/environ", "rb") as f:
            environ = f.read()
        for secret in (token.encode(), b"postgresql://", b"DATASHARE_MASTER_KEY"):
            assert secret not in cmdline and secret not in environ
        assert not any(cluster.data_dir.iterdir()), "client mode writes nothing into a data dir"
        assert not list(cluster.root_dir.rglob("*.db"))
    finally:
        cluster.stop()

    assert not cluster.servers[0].alive
    # The reviewer, later, with no Jupyter server anywhere: the page and the exact bytes.
    with urllib.request.urlopen(link["url"], timeout=30) as r:
        assert r.status == 200 and b"Field study" in r.read()
    with urllib.request.urlopen(link["url"] + "/files/table.csv", timeout=30) as r:
        assert r.read() == TABLE
