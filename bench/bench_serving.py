#!/usr/bin/env python
"""Benchmark: serving like a file server (issue 12) — many readers at once, small and large files,
an owner's API call while downloads stream, and start-up.

A measurement, not a test: exits 0 even when a target FAILs, non-zero when something breaks.
Run from the repository root:  python bench/bench_serving.py [--quick]   (see bench/README.md)

Every figure is measured in the same run against a reference measured in that run (nginx serving
the same files, jupyter-server's own ``/files/``), in interleaved rounds; medians are reported.
Load comes from ``wrk`` (apt-get install wrk), a separate process, 16 keep-alive connections.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_download as bd  # noqa: E402  (the Server helper and the raw-socket download client)
from bench_upload import start_nginx as nginx_with  # noqa: E402

MiB = 1 << 20
SMALL = "small.bin"  # 4 KiB
BIG = "big.bin"
TARGETS = {
    "open_small_vs_files": 2.0, "link_small_vs_files": 1.0, "link_small_vs_nginx": 0.05, "p99_ms": 100,
    "big_open_vs_nginx": 0.9, "big_encrypted_vs_nginx": 0.7, "owner_p99_ms": 50, "startup_extra_s": 0.5,
}  # fmt: skip


class BenchError(Exception):
    pass


def start_nginx(work: Path, root: Path) -> tuple[subprocess.Popen, int]:
    """nginx serving ``root`` at /static/ with one worker (one process, like one jupyter server)."""
    if not any(p and os.access(p, os.X_OK) for p in (shutil.which("nginx"), "/usr/sbin/nginx")):
        raise BenchError("nginx is missing: apt-get install nginx")
    return nginx_with(work, root, location=f"location /static/ {{ alias {root}/; }}")


def wrk(url: str, seconds: float, connections: int, headers: dict | None = None) -> dict:
    """requests/s and latency percentiles (ms) of ``wrk`` on one URL; every answer must be 2xx."""
    exe = shutil.which("wrk")
    if exe is None:
        raise BenchError("wrk is missing: apt-get install wrk")
    cmd = [exe, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out or "Socket errors" in out and re.search(r"(connect|read|write|timeout) [1-9]", out):
        raise BenchError(f"wrk saw errors on {url.split('/r/')[0]}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"]}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def small_files(server, nginx_port: int, links: dict, seconds: float, rounds: int, conns: int) -> dict:
    auth = {"Authorization": f"token {server.token}"}
    routes = {
        "nginx": (f"http://127.0.0.1:{nginx_port}/static/{SMALL}", None),
        "files": (f"{server.base}/files/shared/{SMALL}", auth),
        "open": (f"{server.base}/datashare/d/{links['open_id']}/files/{SMALL}", None),
        "link": (links["link_small"], None),
        "landing": (f"{server.base}/datashare/d/{links['open_id']}", None),
    }
    runs: dict = {k: [] for k in routes}
    for i in range(rounds):
        for key, (url, headers) in routes.items():
            r = wrk(url, seconds, conns, headers)
            runs[key].append(r)
            print(f"  round {i + 1} {key:<8} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms")
    return {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50_ms", "p99_ms")} for k, v in runs.items()}


def big_files(server, nginx_port: int, links: dict, size: int, rounds: int) -> dict:
    paths = {
        "nginx": ("nginx", lambda: bd.download(f"http://127.0.0.1:{nginx_port}/static/{BIG}"), None),
        "open": ("open file", lambda: bd.download(f"{server.base}/datashare/d/{links['open_id']}/files/{BIG}"), None),
        "encrypted": ("encrypted", lambda: bd.download(links["link_big"]), None),
    }
    return bd.measure(paths, size, rounds)


_STREAMER = r"""
import socket, sys, time
from urllib.parse import urlparse
url, until = sys.argv[1], time.monotonic() + float(sys.argv[2])
u = urlparse(url); buf = bytearray(1 << 20); done = 0
while time.monotonic() < until:
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n\r\n".encode())
    s.recv_into(buf)
    if not done:
        print("streaming", flush=True)  # the bench samples once every stream is under way
    while s.recv_into(buf):
        pass
    s.close(); done += 1
print(done)
"""


def owner_latency(server, dataset_id: str, url_plain: str, url_encrypted: str, streams: int, seconds: float,
                  calls: int) -> dict:
    """p50/p99 of an owner API call alone, then while ``streams`` plain and ``streams`` encrypted
    large downloads run (each stream downloads again as soon as it finished)."""
    def sample(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            server.api("GET", f"/datashare/api/datasets/{dataset_id}")
            out.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
        return out

    idle = sample(calls)
    procs = [subprocess.Popen([sys.executable, "-c", _STREAMER, u, str(seconds)], stdout=subprocess.PIPE, text=True)
             for u in [url_plain] * streams + [url_encrypted] * streams]  # fmt: skip
    for p in procs:  # every stream under way (32 interpreters starting took the CPU for a second)
        p.stdout.readline()
    busy = sample(calls)
    downloads = sum(int(p.communicate()[0].split()[-1] or 0) for p in procs)
    q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1]  # noqa: E731
    return {"idle_p50_ms": statistics.median(idle), "idle_p99_ms": q(idle, 99), "busy_p50_ms": statistics.median(busy),
            "busy_p99_ms": q(busy, 99), "busy_max_ms": max(busy), "downloads_done": downloads,
            "busy_slowest_at": sorted(range(len(busy)), key=busy.__getitem__)[-3:]}  # fmt: skip


def startup(work: Path, root: Path, rounds: int) -> dict:
    """Seconds from launching ``jupyter server`` to its first answer, without the extension, with it
    on an existing store (a restart: the usual case) and with it making a fresh store (migrations)."""
    times: dict = {"without": [], "with": [], "first": []}

    def once(key: str, w: Path) -> float:
        t = time.perf_counter()
        s = StartServer(w, root, extension=(key != "without"))
        try:
            s.wait_ready()
            return time.perf_counter() - t
        finally:
            s.stop()

    kept = work / "start-with"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    once("with", kept)  # makes the store the restarts find
    for _ in range(rounds):
        for key in times:
            w = kept if key == "with" else work / f"start-{key}"
            if key != "with":
                shutil.rmtree(w, ignore_errors=True)
                w.mkdir(parents=True)
            times[key].append(once(key, w))
    return {k: statistics.median(v) for k, v in times.items()}


class StartServer(bd.Server):
    def __init__(self, work: Path, root: Path, extension: bool):
        super().__init__(work, root, [])
        if not extension:  # the same command with every extension off
            self.stop()
            cmd = [a for a in self.proc.args if not a.startswith(("--ServerApp.jpserver_extensions", "--DataShareApp"))]
            cmd.append(f"--ServerApp.jpserver_extensions={ {k: False for k in bd.only_this_extension()}!r}")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(cmd, env=self._env(), cwd=work, stdout=log, stderr=subprocess.STDOUT)
            self.pid = self.proc.pid

    @staticmethod
    def _env():
        return dict(os.environ, PYTHONPATH=str(bd.REPO))

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(self.base + "/api/status", headers={"Authorization": f"token {self.token}"})
                urllib.request.urlopen(req, timeout=5).read()
                return
            except OSError:
                time.sleep(0.02)
        raise BenchError("server did not start")


def prepare(server, root: Path) -> dict:
    api = server.api
    ds = api("POST", "/datashare/api/datasets", {"path": "shared", "title": "Serving benchmark (open)",
                                                   "access": {"level": "open"}})  # fmt: skip
    rv = api("POST", "/datashare/api/datasets", {"path": "shared", "title": "Serving benchmark (reviewers)",
                                                   "access": {"level": "reviewer-only"}})  # fmt: skip
    open_id, review_id = _id(server, ds), _id(server, rv)
    link = api("POST", f"/datashare/api/datasets/{review_id}/links", {})["url"]
    return {"open_id": open_id, "link_small": f"{link}/files/{SMALL}", "link_big": f"{link}/files/{BIG}"}


def _id(server, answer: dict) -> str:
    """A share answers with the dataset, or 202 with a job to follow until the dataset is frozen."""
    if "job" not in answer:
        return answer["id"]
    job_id = answer["job"]["id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        j = server.api("GET", f"/datashare/api/jobs/{job_id}")
        if j["state"] == "done":
            return j["dataset"]["id"]
        if j["state"] == "failed":
            raise BenchError(f"share failed: {j.get('error')}")
        time.sleep(0.2)
    raise BenchError("share did not finish")


def report(res: dict) -> None:
    s, b, o, st = res["small"], res["big"], res["owner"], res["startup"]
    t = TARGETS
    rows = [
        ("open small file / jupyter-server /files/", s["open"]["rps"] / s["files"]["rps"], t["open_small_vs_files"]),
        ("review-link small file / /files/", s["link"]["rps"] / s["files"]["rps"], t["link_small_vs_files"]),
        ("review-link small file / nginx", s["link"]["rps"] / s["nginx"]["rps"], t["link_small_vs_nginx"]),
        ("big open file / nginx", b["open"]["median_mbps"] / b["nginx"]["median_mbps"], t["big_open_vs_nginx"]),
        ("big encrypted file / nginx", b["encrypted"]["median_mbps"] / b["nginx"]["median_mbps"], t["big_encrypted_vs_nginx"]),
    ]  # fmt: skip
    print("\nsmall files (4 KiB), medians:")
    print(f"  {'route':<10} {'req/s':>9} {'vs nginx':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for k, v in s.items():
        print(f"  {k:<10} {v['rps']:9.0f} {v['rps'] / s['nginx']['rps']:9.4f} {v['p50_ms']:8.1f} {v['p99_ms']:8.1f}")
    print(f"\nbig files ({res['big_mib']} MiB), median MB/s: " + ", ".join(f"{k} {v['median_mbps']:.0f}" for k, v in b.items()))
    print(f"\nowner API (GET api/datasets/{id}) idle p50 {o['idle_p50_ms']:.1f} / p99 {o['idle_p99_ms']:.1f} ms; during "
          f"{res['streams']} plain + {res['streams']} encrypted downloads p50 {o['busy_p50_ms']:.1f} / p99 "
          f"{o['busy_p99_ms']:.1f} / max {o['busy_max_ms']:.1f} ms ({o['downloads_done']} downloads done)")
    print(f"start-up to first answer: without the extension {st['without']:.2f} s; with it {st['with']:.2f} s "
          f"(+{st['with'] - st['without']:.2f} s), making a fresh store {st['first']:.2f} s (+{st['first'] - st['without']:.2f} s)")
    print("\ntargets:")
    for label, ratio, target in rows:
        print(f"  {label:<44} {ratio:8.3f}x  target >= {target}x  {'PASS' if ratio >= target else 'FAIL'}")
    worst = max(s[k]["p99_ms"] for k in ("open", "link"))
    print(f"  {'small-file p99 (open, review link)':<44} {worst:8.1f} ms target < {t['p99_ms']} ms  "
          f"{'PASS' if worst < t['p99_ms'] else 'FAIL'}")
    print(f"  {'owner API p99 during downloads':<44} {o['busy_p99_ms']:8.1f} ms target < {t['owner_p99_ms']} ms  "
          f"{'PASS' if o['busy_p99_ms'] < t['owner_p99_ms'] else 'FAIL'}")
    extra = st["with"] - st["without"]
    print(f"  {'start-up cost of the extension (restart)':<44} {extra:8.2f} s  target < {t['startup_extra_s']} s  "
          f"{'PASS' if extra < t['startup_extra_s'] else 'FAIL'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8, help="seconds per wrk run, default 8")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds, default 3")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--big-mib", type=int, default=512, help="size of the large file (MiB), default 512")
    ap.add_argument("--streams", type=int, default=16, help="plain and as many encrypted downloads at once")
    ap.add_argument("--only", help="comma-separated parts: small,big,owner,startup (default: all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 s, 1 round, 64 MiB")
    ap.add_argument("--server-arg", action="append", default=[], help="e.g. --DataShareApp.download_processes=0")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "datashare-bench-serving"))
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.rounds, a.big_mib = 2, 1, 64
    parts = set((a.only or "small,big,owner,startup").split(","))
    work = Path(a.workdir).resolve()
    root = work / "root"
    for sub in ("data", "jupyter", "root"):
        shutil.rmtree(work / sub, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "shared" / SMALL).write_bytes(os.urandom(4096))
    bd.make_file(root / "shared" / BIG, a.big_mib * MiB)
    res: dict = {"big_mib": a.big_mib, "streams": a.streams, "seconds": a.seconds, "rounds": a.rounds,
                 "connections": a.connections, "cpus": os.cpu_count(), "targets": TARGETS}  # fmt: skip
    nginx = None
    try:
        nginx, nginx_port = start_nginx(work, root / "shared")
        server = bd.Server(work, root, a.server_arg)
        try:
            server.wait_ready()
            links = prepare(server, root)
            print(f"server pid {server.pid} on {server.base}; datasets shared")
            if "small" in parts:
                print("small files:")
                res["small"] = small_files(server, nginx_port, links, a.seconds, a.rounds, a.connections)
            if "big" in parts:
                print("big files:")
                res["big"] = big_files(server, nginx_port, links, a.big_mib * MiB, a.rounds)
            if "owner" in parts:
                print("owner API during downloads:")
                plain = f"{server.base}/datashare/d/{links['open_id']}/files/{BIG}"
                res["owner"] = owner_latency(server, links["open_id"], plain, links["link_big"], a.streams, max(6.0, a.seconds), 100)
        finally:
            server.stop()
        if "startup" in parts:
            print("start-up:")
            res["startup"] = startup(work, root, a.rounds)
    except (BenchError, OSError, subprocess.SubprocessError) as exc:
        detail = exc.read().decode(errors="replace")[:500] if isinstance(exc, urllib.error.HTTPError) else ""
        print(f"\nBENCHMARK BROKEN: {exc} {detail}", file=sys.stderr)
        return 2
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait()
    (work / "bench-results.json").write_text(json.dumps(res, indent=2))
    if parts >= {"small", "big", "owner", "startup"}:
        report(res)
    else:
        print(json.dumps({k: v for k, v in res.items() if k != "targets"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
