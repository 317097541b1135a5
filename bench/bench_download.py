#!/usr/bin/env python
"""Benchmark: review-link download vs jupyter-server's /files/ handler vs a plain disk read,
server memory growth during a download, and the durable audit append rate.

A measurement, not a test: exits 0 even when a target FAILs, non-zero when something breaks.
Run from the repository root:  python bench/bench_download.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CURL = "/usr/bin/curl"
MiB = 1 << 20
FILE_NAME = "big.bin"
TARGETS = {"link_vs_files": 0.9, "link_vs_plain": 0.5, "mem_mib": 64, "audit_eps": 2000}
# Plain read in a child process: 1 MiB reads, prints "<bytes> <seconds>" like the curl calls.
PLAIN_READ = (
    "import sys, time\nt = time.perf_counter(); n = 0\nwith open(sys.argv[1], 'rb', buffering=0) as f:\n"
    "    while b := f.read(1 << 20): n += len(b)\nprint(n, time.perf_counter() - t)"
)


class BenchError(Exception):
    """Something broke (as opposed to a target being missed)."""


def make_file(path: Path, size: int) -> None:
    """Write ``size`` bytes of random-ish data in 1 MiB chunks (reused if already the right size)."""
    if path.is_file() and path.stat().st_size == size:
        print(f"using existing {path} ({size / MiB:.0f} MiB)")
        return
    pool = os.urandom(8 * MiB)
    t = time.perf_counter()
    with open(path, "wb") as f:
        for i in range(0, size, MiB):
            off = (i // MiB * 4099) % (len(pool) - MiB)  # a different window of the pool each chunk
            f.write(i.to_bytes(8, "little") + pool[off + 8 : off + min(MiB, size - i)])
    print(f"wrote {path} ({size / MiB:.0f} MiB) in {time.perf_counter() - t:.1f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for pid {pid}")


class RssSampler(threading.Thread):
    """Samples a process's RSS every ~5 ms; ``peak`` is the highest value seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak = pid, threading.Event(), rss_mib(pid)

    def run(self):
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, rss_mib(self.pid))


def only_this_extension() -> dict:
    """jpserver_extensions enabling ours and disabling every other one installed (lab, lsp, ...)."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    others = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    return {name: False for name in others} | {"jupyter_datashare": True}


class Server:
    """A real ``jupyter server`` subprocess with only this extension enabled, on loopback."""

    def __init__(self, work: Path, root: Path, extra_args: list[str]):
        self.port, self.token = free_port(), secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        for var, sub in (("JUPYTER_CONFIG_DIR", "jupyter/config"), ("JUPYTER_DATA_DIR", "jupyter/data"),
                         ("JUPYTER_RUNTIME_DIR", "jupyter/runtime")):  # fmt: skip
            env[var] = str(work / sub)
            os.makedirs(env[var], exist_ok=True)
        env.pop("JUPYTERHUB_USER", None)
        cmd = [
            sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
            "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={self.token}",
            "--ServerApp.allow_unauthenticated_access=False",
            f"--ServerApp.jpserver_extensions={only_this_extension()!r}",
            f"--DataShareApp.data_dir={work / 'data'}", *extra_args,
        ]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path = work / "server.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(work), stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"server exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"server did not answer within {timeout:.0f} s; log:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=900) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def curl(url: str, headers: dict | None = None, byte_range: str | None = None) -> tuple[int, int, float]:
    """One download in a separate process; returns (http status, bytes, seconds)."""
    cmd = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if byte_range:
        cmd += ["-r", byte_range]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise BenchError(f"curl failed ({out.returncode}) on {url.split('/r/')[0]}...: {out.stderr.strip()}")
    code, size, secs = out.stdout.split()
    return int(code), int(size), float(secs)


def plain_read(path: Path) -> tuple[int, int, float]:
    out = subprocess.run([sys.executable, "-c", PLAIN_READ, str(path)], capture_output=True, text=True, check=True)
    size, secs = out.stdout.split()
    return 200, int(size), float(secs)


def measure(name: str, fn, size: int, repeat: int, pid: int | None) -> dict:
    """Run ``fn`` ``repeat`` times; check the size; sample the server's RSS if ``pid``."""
    runs, growth = [], []
    for i in range(repeat):
        sampler = None
        if pid:
            sampler = RssSampler(pid)  # its initial peak is the RSS just before the download
            base = sampler.peak
            sampler.start()
        try:
            code, got, secs = fn()
        finally:
            if sampler:
                sampler.stop.set()
                sampler.join()
        if code != 200 or got != size:
            raise BenchError(f"{name}: HTTP {code}, got {got} bytes, expected {size}")
        runs.append(size / secs / 1e6)
        if sampler:
            growth.append(sampler.peak - base)
        print(f"  {name:<14} run {i + 1}: {secs:7.3f} s  {runs[-1]:8.1f} MB/s"
              + (f"  server RSS +{growth[-1]:.1f} MiB" if sampler else ""))  # fmt: skip
    return {"best_mbps": max(runs), "median_mbps": statistics.median(runs), "runs_mbps": runs,
            "peak_rss_growth_mib": max(growth) if growth else None}  # fmt: skip


def bench_audit(root: Path, work: Path) -> dict:
    """Durable appends on a fresh database: one thread, then 16 threads (group commit)."""
    from jupyter_datashare.core.audit import Event
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    data = work / "audit-bench"
    shutil.rmtree(data, ignore_errors=True)
    ctx = DataShare(Settings(root_dir=str(root), data_dir=str(data), owner="bench"))

    def event():
        return Event("file.downloaded", "link:lnk-bench", outcome="allowed", dataset_id="ds-bench",
                     file=FILE_NAME, byte_range="0-1023", client="127.0.0.1")  # fmt: skip

    try:
        n_seq = 3000
        t = time.perf_counter()
        for _ in range(n_seq):
            ctx.audit.record(event())
        seq_eps = n_seq / (time.perf_counter() - t)
        threads, per_thread = 16, 500
        gate = threading.Barrier(threads + 1)
        errors: list[BaseException] = []

        def worker():
            gate.wait()
            try:
                for _ in range(per_thread):
                    ctx.audit.record(event())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for th in pool:
            th.start()
        gate.wait()
        t = time.perf_counter()
        for th in pool:
            th.join()
        conc_eps = threads * per_thread / (time.perf_counter() - t)
        if errors:
            raise BenchError(f"audit append failed: {errors[0]!r}")
        report = ctx.audit.verify()
        expected = n_seq + threads * per_thread
        if not report.ok or report.events != expected:
            raise BenchError(f"audit verify: {report.to_dict()} (expected {expected} events)")
        print(f"  sequential: {seq_eps:8.0f} events/s   16 threads: {conc_eps:8.0f} events/s")
        print(f"  verify: ok, {report.events} events, {report.checkpoints} checkpoints")
        return {"sequential_eps": seq_eps, "concurrent_eps": conc_eps, "verify": report.to_dict()}
    finally:
        ctx.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="size of the test file (MiB), default 1024")
    ap.add_argument("--repeat", type=int, default=3, help="downloads per path, default 3")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "datashare-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the big file and the stores afterwards")
    ap.add_argument("--quick", action="store_true", help="smoke run: 64 MiB, 1 repeat")
    ap.add_argument("--chunk-kib", type=int, help="pass --DataShareApp.download_chunk_size (KiB)")
    a = ap.parse_args()
    if a.quick:
        a.size_mib, a.repeat = 64, 1
    work = Path(a.workdir).resolve()
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    big, size = root / FILE_NAME, a.size_mib * MiB
    for sub in ("data", "jupyter"):  # a fresh store and config each run
        shutil.rmtree(work / sub, ignore_errors=True)
    extra = [f"--DataShareApp.download_chunk_size={a.chunk_kib * 1024}"] if a.chunk_kib else []
    res: dict = {"size_bytes": size, "repeat": a.repeat, "chunk_size": a.chunk_kib * 1024 if a.chunk_kib else "default",
                 "cpus": os.cpu_count(), "python": sys.version.split()[0], "targets": TARGETS}  # fmt: skip
    try:
        make_file(big, size)
        server = Server(work, root, extra)
        try:
            t = time.perf_counter()
            server.wait_ready()
            print(f"server pid {server.pid} up on {server.base} in {time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            ds = server.api("POST", "/datashare/api/datasets",
                            {"path": FILE_NAME, "title": "Download benchmark", "access": {"level": "reviewer-only"}})  # fmt: skip
            print(f"shared {ds['id']} in {time.perf_counter() - t:.1f} s (copy + hash + fsync)")
            sha = ds["files"][0]["sha256"]
            blob = work / "data" / "store" / "blobs" / sha[:2] / sha
            if blob.stat().st_size != size:
                raise BenchError(f"stored blob {blob} has {blob.stat().st_size} bytes, expected {size}")
            link_url = server.api("POST", f"/datashare/api/datasets/{ds['id']}/links", {})["url"] + f"/files/{FILE_NAME}"
            auth = {"Authorization": f"token {server.token}"}
            files_url = f"{server.base}/files/{FILE_NAME}"
            for p in (big, blob):  # warm the page cache once, untimed
                plain_read(p)
            print(f"downloading {size / MiB:.0f} MiB x {a.repeat} per path:")
            res["link"] = measure("review link", lambda: curl(link_url), size, a.repeat, server.pid)
            res["files"] = measure("/files/", lambda: curl(files_url, auth), size, a.repeat, server.pid)
            res["plain"] = measure("plain read", lambda: plain_read(blob), size, a.repeat, None)
            lat = []
            for _ in range(10):  # 1 MiB ranges through the link, nothing else running
                code, got, secs = curl(link_url, byte_range=f"0-{MiB - 1}")
                if code != 206 or got != MiB:
                    raise BenchError(f"range request: HTTP {code}, {got} bytes, expected 206 and {MiB}")
                lat.append(secs * 1000)
            full_ms = size / (res["link"]["median_mbps"] * 1e6) * 1000
            res["range_1mib"] = {"best_ms": min(lat), "median_ms": statistics.median(lat),
                                 "fraction_of_full_download": statistics.median(lat) / full_ms}  # fmt: skip
            print(f"  1 MiB range via link: median {statistics.median(lat):.1f} ms, best {min(lat):.1f} ms")
        finally:
            server.stop()
        print("audit appends (durable, fresh database):")
        res["audit"] = bench_audit(root, work)
    except (BenchError, OSError, subprocess.SubprocessError, urllib.error.URLError) as exc:
        detail = exc.read().decode(errors="replace")[:500] if isinstance(exc, urllib.error.HTTPError) else ""
        print(f"\nBENCHMARK BROKEN: {exc} {detail}", file=sys.stderr)
        return 2
    finally:
        if not a.keep:
            big.unlink(missing_ok=True)
            for sub in ("data", "audit-bench"):
                shutil.rmtree(work / sub, ignore_errors=True)
    report(res, work)
    return 0


def report(res: dict, work: Path) -> None:
    """Print the summary table with PASS/FAIL and write the JSON results."""
    link, files, plain = res["link"], res["files"], res["plain"]
    ratios = {
        "link_vs_files": link["median_mbps"] / files["median_mbps"],
        "link_vs_plain": link["median_mbps"] / plain["median_mbps"],
        "link_vs_files_best": link["best_mbps"] / files["best_mbps"],
        "link_vs_plain_best": link["best_mbps"] / plain["best_mbps"],
    }
    res["ratios"] = ratios
    checks = [
        ("link / files handler (median)", f"{ratios['link_vs_files']:.2f}x", f">= {TARGETS['link_vs_files']}x",
         ratios["link_vs_files"] >= TARGETS["link_vs_files"]),
        ("link / plain read (median)", f"{ratios['link_vs_plain']:.2f}x", f">= {TARGETS['link_vs_plain']}x",
         ratios["link_vs_plain"] >= TARGETS["link_vs_plain"]),
        ("server RSS growth, link", f"{link['peak_rss_growth_mib']:.1f} MiB", f"< {TARGETS['mem_mib']} MiB",
         link["peak_rss_growth_mib"] < TARGETS["mem_mib"]),
        ("audit appends, 16 threads", f"{res['audit']['concurrent_eps']:.0f} ev/s", f">= {TARGETS['audit_eps']} ev/s",
         res["audit"]["concurrent_eps"] >= TARGETS["audit_eps"]),
    ]  # fmt: skip
    res["pass"] = {name: ok for name, _, _, ok in checks}
    print(f"\n=== summary: {res['size_bytes'] / MiB:.0f} MiB file, {res['repeat']} run(s) per path, "
          f"chunk size {res['chunk_size']}, {res['cpus']} CPUs ===")  # fmt: skip
    print(f"{'path':<16}{'best MB/s':>12}{'median MB/s':>13}{'RSS growth':>13}")
    for name, r in (("review link", link), ("/files/ handler", files), ("plain read", plain)):
        mem = f"{r['peak_rss_growth_mib']:.1f} MiB" if r["peak_rss_growth_mib"] is not None else "-"
        print(f"{name:<16}{r['best_mbps']:>12.1f}{r['median_mbps']:>13.1f}{mem:>13}")
    rng = res["range_1mib"]
    print(f"1 MiB range via link: median {rng['median_ms']:.1f} ms (best {rng['best_ms']:.1f} ms), "
          f"{rng['fraction_of_full_download'] * 100:.2f}% of a full download")  # fmt: skip
    print(f"audit appends: sequential {res['audit']['sequential_eps']:.0f} ev/s, "
          f"16 threads {res['audit']['concurrent_eps']:.0f} ev/s; verify ok={res['audit']['verify']['ok']}")  # fmt: skip
    print(f"best-of ratios: link/files {ratios['link_vs_files_best']:.2f}x, link/plain {ratios['link_vs_plain_best']:.2f}x")
    print(f"\n{'check':<32}{'measured':>14}{'target':>16}  result")
    for name, value, target, ok in checks:
        print(f"{name:<32}{value:>14}{target:>16}  {'PASS' if ok else 'FAIL'}")
    out = work / "bench-results.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nresults written to {out}")


if __name__ == "__main__":
    sys.exit(main())
