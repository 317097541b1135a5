#!/usr/bin/env python
"""Benchmark: sharing a big file from a Jupyter server in client mode to the datashare service,
against ``curl -T`` of the same file to nginx (WebDAV PUT) on this machine, measured in the same
run; the service's memory growth meanwhile; and a review-link download through JupyterHub's
configurable-http-proxy against the same download straight from the service (the proxy's cost).

A measurement, not a test: exits 0 even when a target FAILs, non-zero when something breaks.
Run from the repository root:  python bench/bench_upload.py [--quick] [--rounds N]  (bench/README.md)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench_download import BenchError, Server, download, make_file, rss_mib  # noqa: E402

MiB = 1 << 20
TARGETS = {"upload_vs_curl": 0.8, "mem_mib": 64}
ADDRESS = re.compile(r"jupyter-datashare service at (http://127\.0\.0\.1:\d+/)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(work: Path, store: Path, location: str | None = None) -> tuple[subprocess.Popen, int]:
    """nginx with one worker on a free port: WebDAV PUT into ``store`` at /up/, or ``location``."""
    port, d = free_port(), work / "nginx"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    location = location or f"location /up/ {{ root {store}; dav_methods PUT DELETE; create_full_put_path on; client_max_body_size 0; }}"
    (d / "nginx.conf").write_text(f"""
daemon off; {user} worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; sendfile on; client_body_temp_path {d}/client_body; proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{ listen 127.0.0.1:{port}; {location} }}
}}""")
    nginx = next(p for p in (shutil.which("nginx"), "/usr/sbin/nginx") if p and os.access(p, os.X_OK))
    proc = subprocess.Popen([nginx, "-c", str(d / "nginx.conf"), "-p", str(d)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def curl_put(path: Path, port: int) -> float:
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-T", str(path),
                          f"http://127.0.0.1:{port}/up/{path.name}"], capture_output=True, text=True, check=True)  # fmt: skip
    code, secs = out.stdout.split()
    if code not in ("201", "204"):
        raise BenchError(f"curl -T to nginx answered {code}")
    return float(secs)


class Service:
    """``jupyter datashare serve --port 0`` on a folder of the bench's own, with a token for alice."""

    def __init__(self, work: Path):
        from jupyter_datashare.core import api_tokens
        from jupyter_datashare.core.service import DataShare
        from jupyter_datashare.core.settings import Settings

        self.root, self.data = work / "service-root", work / "service-data"
        self.root.mkdir()
        core = DataShare(Settings(root_dir=str(self.root), data_dir=str(self.data), owner="admin"))
        self.token = api_tokens.issue(core, "admin:bench", "alice")[1]
        core.close()
        log = open(work / "service.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_datashare.cli", "--root-dir", str(self.root),
                                      "--data-dir", str(self.data), "serve", "--port", "0"], cwd=REPO, stdout=log,
                                     stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = ADDRESS.search((work / "service.log").read_text())
            if found:
                self.url = found.group(1)
                return
            time.sleep(0.1)
        raise BenchError("the service did not start:\n" + (work / "service.log").read_text()[-2000:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def sampled_rss(pid: int, fn):
    """Run ``fn`` while sampling ``pid``'s RSS every 5 ms; (fn's result, seconds, peak growth MiB)."""
    stop, peak = threading.Event(), [rss_mib(pid)]
    base = peak[0]

    def sample():
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_mib(pid))

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        out = fn()
    finally:
        secs = time.perf_counter() - start
        stop.set()
        t.join()
    return out, secs, peak[0] - base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each measurement (medians)")
    ap.add_argument("--quick", action="store_true", help="256 MiB, 2 rounds")
    ap.add_argument("--work", help="folder to work in (default: a temporary one, removed after)")
    args = ap.parse_args()
    if args.quick:
        args.size_mib, args.rounds = 256, 2
    size = args.size_mib * MiB
    work = Path(args.work or tempfile.mkdtemp(prefix="datashare-bench-upload-"))
    from jupyter_datashare.client import sharing
    from jupyter_datashare.client.connection import Service as Client

    procs = []
    try:
        (work / "jupyter-root" / "big").mkdir(parents=True, exist_ok=True)
        big = work / "jupyter-root" / "big" / "big.bin"
        make_file(big, size)
        nginx, nginx_port = start_nginx(work, work / "nginx-store")
        procs.append(nginx)
        service = Service(work)
        procs.append(service)
        client = Client(service.url, service.token)
        curl, upload, growth = [], [], []
        for i in range(args.rounds):
            curl.append(curl_put(big, nginx_port))
            (work / "nginx-store" / "up" / big.name).unlink()
            up = sharing.plan(str(work / "jupyter-root"), "big")
            _, secs, grew = sampled_rss(service.proc.pid, lambda: sharing.send(client, up))
            client.call("DELETE", "api/files/big")
            upload.append(secs)
            growth.append(grew)
            print(f"round {i + 1}: curl -T to nginx {curl[-1]:.2f} s, client-mode upload {secs:.2f} s, "
                  f"service RSS +{grew:.1f} MiB", flush=True)  # fmt: skip

        # The whole share, as the panel makes it: through a Jupyter server in client mode.
        token_file = work / "token"
        token_file.write_text(service.token)
        server = Server(work, work / "jupyter-root", [f"--DataShareApp.service_url={service.url}",
                                                       f"--DataShareApp.service_token_file={token_file}"])  # fmt: skip
        procs.append(server)
        server.wait_ready()
        start = time.perf_counter()
        shared = server.api("POST", "/datashare/api/datasets", {"path": "big", "title": "Big", "access": {"level": "reviewer-only"}})
        whole = time.perf_counter() - start
        link = server.api("POST", f"/datashare/api/datasets/{shared['id']}/links", {})["url"]

        # The proxy's cost: the review-link download through configurable-http-proxy, and straight.
        chp = shutil.which("configurable-http-proxy") or str(REPO / ".ci/node/node_modules/.bin/configurable-http-proxy")
        proxy_secs = direct_secs = None
        if os.access(chp, os.X_OK):
            pport, aport = free_port(), free_port()
            env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(16))
            proxy = subprocess.Popen([chp, "--ip", "127.0.0.1", "--port", str(pport), "--api-ip", "127.0.0.1",
                                      "--api-port", str(aport), "--default-target", service.url.rstrip("/")], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            procs.append(proxy)
            time.sleep(1.5)
            via, straight = [], []
            for _ in range(args.rounds):
                straight.append(download(link + "/files/big.bin")[2])
                via.append(download(link.replace(service.url, f"http://127.0.0.1:{pport}/") + "/files/big.bin")[2])
            proxy_secs, direct_secs = statistics.median(via), statistics.median(straight)

        c, u = statistics.median(curl), statistics.median(upload)
        ratio = c / u
        worst = max(growth)
        print()
        print(f"file: {args.size_mib} MiB, {args.rounds} interleaved rounds (medians)")
        print(f"curl -T to nginx (reference):         {c:6.2f} s  {size / MiB / c:7.0f} MiB/s")
        print(f"client-mode upload (hashed as sent): {u:6.2f} s  {size / MiB / u:7.0f} MiB/s  "
              f"{ratio:.2f}x  target >= {TARGETS['upload_vs_curl']}x  {'PASS' if ratio >= TARGETS['upload_vs_curl'] else 'FAIL'}")  # fmt: skip
        print(f"service RSS growth while uploading:   {worst:6.1f} MiB  target < {TARGETS['mem_mib']} MiB  "
              f"{'PASS' if worst < TARGETS['mem_mib'] else 'FAIL'}")  # fmt: skip
        print(f"whole share through a client-mode Jupyter server (upload, the service's freeze, encrypted): "
              f"{whole:.2f} s ({c / whole:.2f}x curl)")  # fmt: skip
        if proxy_secs:
            print(f"review-link download: straight {direct_secs:.2f} s, through configurable-http-proxy "
                  f"{proxy_secs:.2f} s ({direct_secs / proxy_secs:.2f}x; the proxy's cost)")  # fmt: skip
        print(json.dumps({"curl_s": c, "upload_s": u, "ratio": ratio, "rss_mib": worst, "share_s": whole,
                          "proxy_s": proxy_secs, "direct_s": direct_secs}))  # fmt: skip
        return 0
    finally:
        for p in reversed(procs):
            try:
                p.stop() if hasattr(p, "stop") else (p.terminate(), p.wait(20))
            except Exception:  # noqa: BLE001 - clean up what can be
                pass
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
