#!/usr/bin/env python
"""Benchmark: several processes on one database — durable audit events/s and small review-link
downloads/s, on SQLite and on PostgreSQL, with 1 and 2 processes, against single-process SQLite
measured in the same run.

A measurement, not a test: exits 0 even when the target is missed, non-zero when something breaks.
Run from the repository root:  python bench/bench_processes.py [--quick]   (see bench/README.md)
PostgreSQL is a durable throw-away cluster from scripts/postgres.sh (fsync and synchronous commit
on, like SQLite's fsync'd commits), started and removed by this script.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET = 1.0  # PostgreSQL with 2 processes / single-process SQLite, for both figures


class BenchError(Exception):
    """Something broke (as opposed to a target being missed)."""


# -- durable audit appends from separate processes ------------------------------------------------

# One process of the audit measurement: THREADS threads append EVENTS events in all, starting at
# the same wall-clock moment as the other processes; prints its start, end and count.
_AUDIT_WORKER = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from jupyter_datashare.core.audit import Event
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings
data_dir, db_url, events, threads, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ctx = DataShare(Settings(root_dir=data_dir, data_dir=data_dir, db_url=db_url, owner="bench"))
def append(n):
    for _ in range(n):
        ctx.audit.record(Event("file.downloaded", "link:lnk-bench", outcome="allowed", dataset_id="ds-bench",
                               file="small.bin", byte_range="0-4095", client="127.0.0.1"))
ctx.audit.record(Event("file.downloaded", "link:lnk-bench", outcome="allowed", dataset_id="ds-bench",
                       file="warm-up", client="127.0.0.1"))  # connections and keys ready before the clock
time.sleep(max(0.0, start_at - time.time()))
t0, c0 = time.time(), time.process_time()
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(append, [events // threads] * threads))
t1, c1 = time.time(), time.process_time()
commits = ctx.audit.commits - 1  # less the warm-up's
ctx.close()
print(json.dumps({"start": t0, "end": t1, "events": events // threads * threads, "commits": commits, "cpu": c1 - c0}))
"""


def fresh_database(kind: str, pg_admin: str, name: str) -> str:
    """'' for SQLite in the data dir, or the URL of a new PostgreSQL database."""
    if kind == "sqlite":
        return ""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(pg_admin).set(database=name).render_as_string(hide_password=False)


def bench_audit(work: Path, kind: str, pg_admin: str, processes: int, events: int, threads: int) -> dict:
    """Durable events/s of ``processes`` processes appending at once to one chain, ``threads``
    appending threads in all (the same offered load however many processes share it); the chain
    is verified afterwards (one chain, every event)."""
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    data = work / f"audit-{kind}-{processes}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    db_url = fresh_database(kind, pg_admin, f"bench_audit_{processes}")
    # Made once here (schema, signing key), as a deployment's first start would.
    DataShare(Settings(root_dir=str(data), data_dir=str(data), db_url=db_url, owner="bench")).close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    start_at = time.time() + 3.0 + processes  # every process has opened the database by then
    per_process = events // processes
    procs = [subprocess.Popen([sys.executable, "-c", _AUDIT_WORKER, str(data), db_url or "", str(per_process),
                               str(threads // processes), str(start_at)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(processes)]  # fmt: skip
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise BenchError(f"audit worker failed ({p.returncode}): {err[-2000:]}")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    total = sum(o["events"] for o in outs)
    wall = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    ctx = DataShare(Settings(root_dir=str(data), data_dir=str(data), db_url=db_url, owner="bench"))
    try:
        report = ctx.audit.verify()
    finally:
        ctx.close()
    expected = total + processes
    if not report.ok or report.events < expected:
        raise BenchError(f"audit verify after {processes} processes on {kind}: {report.to_dict()} (expected {expected})")
    commits = sum(o["commits"] for o in outs)
    return {"events": total, "seconds": wall, "eps": total / wall, "verified_events": report.events,
            "events_per_commit": total / max(1, commits),
            "client_cpu_ms_per_event": 1000 * sum(o["cpu"] for o in outs) / total}


# -- small review-link downloads through one or two server processes ----------------------------

# The load: THREADS keep-alive connections in a process of its own, each GETting the URL in a loop
# for SECONDS; prints how many answers were 200 with the whole file, and any other statuses.
_LOAD = r"""
import http.client, json, sys, threading, time
from urllib.parse import urlparse
url, threads, seconds, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
u = urlparse(url); ok = [0] * threads; other = {}; lat = []
stop_at = time.monotonic() + seconds
def run(i):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    while time.monotonic() < stop_at:
        t = time.perf_counter()
        try:
            conn.request("GET", u.path)
            r = conn.getresponse(); body = r.read()
        except (OSError, http.client.HTTPException) as exc:
            other[type(exc).__name__] = other.get(type(exc).__name__, 0) + 1
            conn.close(); conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60); continue
        lat.append(time.perf_counter() - t)
        if r.status == 200 and len(body) == size:
            ok[i] += 1
        else:
            other[str(r.status)] = other.get(str(r.status), 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            conn.close(); conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
t0 = time.monotonic(); [t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
print(json.dumps({"ok": sum(ok), "seconds": time.monotonic() - t0, "other": other,
                  "p50_ms": lat[len(lat) // 2] * 1000 if lat else None, "p99_ms": lat[int(len(lat) * .99)] * 1000 if lat else None}))
"""


def load(url: str, threads: int, seconds: float, size: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _LOAD, url, str(threads), str(seconds), str(size)],
                         capture_output=True, text=True, timeout=seconds + 120)  # fmt: skip
    if out.returncode != 0:
        raise BenchError(f"load generator failed: {out.stderr[-2000:]}")
    res = json.loads(out.stdout)
    res["rps"] = res["ok"] / res["seconds"]
    return res


def owner_call(cluster, method: str, path: str, body: dict | None = None) -> dict:
    u = urlparse(cluster.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    conn.request(method, "/" + path, body=json.dumps(body) if body is not None else None,
                 headers=cluster.headers | {"Content-Type": "application/json"})  # fmt: skip
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise BenchError(f"{method} {path}: HTTP {r.status}: {data[:500]!r}")
    return json.loads(data)


def bench_downloads(work: Path, kind: str, pg_admin: str, processes: int, threads: int, seconds: float,
                    rounds: int, size: int) -> dict:  # fmt: skip
    """Review-link downloads/s of a small encrypted file (a reviewer-only dataset): through nginx
    spreading over ``processes`` processes, and, with one process, also straight to it."""
    from tests.cluster import Cluster

    base = work / f"cluster-{kind}-{processes}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    db_url = fresh_database(kind, pg_admin, f"bench_http_{processes}")
    with Cluster(base, db_url, processes=processes) as c:
        (c.root_dir / "small.bin").write_bytes(os.urandom(size))
        ds = owner_call(c, "POST", "datashare/api/datasets",
                        {"path": "small.bin", "title": "Small files benchmark", "access": {"level": "reviewer-only"}})
        link = owner_call(c, "POST", f"datashare/api/datasets/{ds['id']}/links", {})["url"]
        path = urlparse(link).path + "/files/small.bin"
        targets = {"proxy": c.url.rstrip("/") + path}
        if processes == 1:
            targets["direct"] = c.servers[0].url.rstrip("/") + path
        load(targets["proxy"], threads, 2.0, size)  # warm up: connections, caches, the key
        runs: dict[str, list] = {name: [] for name in targets}
        for _ in range(rounds):  # interleaved, so a slow spell of the machine hits every path alike
            for name, url in targets.items():
                runs[name].append(load(url, threads, seconds, size))
        ctx_verify = verify_chain(c.data_dir, db_url)
    out = {}
    for name, rs in runs.items():
        out[name] = {"rps": statistics.median(r["rps"] for r in rs), "best_rps": max(r["rps"] for r in rs),
                     "p50_ms": statistics.median(r["p50_ms"] for r in rs), "p99_ms": statistics.median(r["p99_ms"] for r in rs),
                     "errors": {k: sum(r["other"].get(k, 0) for r in rs) for r in rs for k in r["other"]}}  # fmt: skip
    out["verify"] = ctx_verify
    return out


def verify_chain(data_dir: Path, db_url: str) -> dict:
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    ctx = DataShare(Settings(root_dir=str(data_dir), data_dir=str(data_dir), db_url=db_url, owner="bench"))
    try:
        report = ctx.audit.verify()
    finally:
        ctx.close()
    if not report.ok:
        raise BenchError(f"the audit chain does not verify after the downloads: {report.to_dict()}")
    return {"ok": report.ok, "events": report.events}


# -- the run ------------------------------------------------------------------------------------


def start_postgres(work: Path) -> tuple[str, Path]:
    pg_dir = Path(tempfile.mkdtemp(prefix="datashare-bench-pg-"))
    out = subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "start", str(pg_dir)], capture_output=True,
                         text=True, env=dict(os.environ, DATASHARE_PG_DURABLE="1"))  # fmt: skip
    if out.returncode != 0:
        raise BenchError(f"could not start PostgreSQL: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1], pg_dir


def report(res: dict) -> None:
    ref_a = res["audit"]["sqlite-1"]["eps"]
    ref_d = res["downloads"]["sqlite-1"]["direct"]["rps"]
    ref_dp = res["downloads"]["sqlite-1"]["proxy"]["rps"]
    print(f"\n=== summary: {res['cpus']} CPUs; audit: {res['audit_events']} events, {res['audit_threads']} appending threads "
          f"in all; downloads: {res['size']} B encrypted file, {res['threads']} connections, "
          f"{res['rounds']} x {res['seconds']:.0f} s per path ===")
    print(f"{'database, processes':<22}{'audit ev/s':>11}{'ratio':>7}{'ev/commit':>10}{'downloads/s':>13}{'ratio':>7}"
          f"{'vs 1 proc via nginx':>21}{'p50 ms':>8}{'p99 ms':>8}")
    for key in res["audit"]:
        a, d = res["audit"][key], res["downloads"][key]["proxy"]
        print(f"{key + ' (nginx)':<22}{a['eps']:>11.0f}{a['eps'] / ref_a:>6.2f}x{a['events_per_commit']:>10.1f}"
              f"{d['rps']:>13.0f}{d['rps'] / ref_d:>6.2f}x"
              f"{d['rps'] / ref_dp:>20.2f}x{d['p50_ms']:>8.1f}{d['p99_ms']:>8.1f}")  # fmt: skip
        if "direct" in res["downloads"][key]:
            dd = res["downloads"][key]["direct"]
            print(f"{key + ' (direct)':<22}{'':>11}{'':>7}{'':>10}{dd['rps']:>13.0f}{dd['rps'] / ref_d:>6.2f}x{'':>21}"
                  f"{dd['p50_ms']:>8.1f}{dd['p99_ms']:>8.1f}")  # fmt: skip
    errors = {k: v["proxy"]["errors"] for k, v in res["downloads"].items() if v["proxy"]["errors"]}
    if errors:
        print(f"non-200 answers: {errors}")
    if "postgresql-2" in res["audit"]:
        pa = res["audit"]["postgresql-2"]["eps"] / ref_a
        pd = res["downloads"]["postgresql-2"]["proxy"]["rps"] / ref_d
        for name, value in (("durable audit events/s", pa), ("small review-link downloads/s", pd)):
            verdict = "PASS" if value >= TARGET else "FAIL"
            print(f"PostgreSQL, 2 processes / SQLite, 1 process, {name}: {value:.2f}x (target >= {TARGET}x) {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer events, 1 round of 3 s")
    ap.add_argument("--databases", default="sqlite,postgresql", help="default %(default)s")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "datashare-bench-processes"))
    ap.add_argument("--seconds", type=float, default=8.0, help="per download measurement, default %(default)s")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (audit and downloads), default %(default)s")
    ap.add_argument("--threads", type=int, default=16, help="download connections, default %(default)s")
    ap.add_argument("--size", type=int, default=4096, help="bytes of the downloaded file, default %(default)s")
    ap.add_argument("--audit-events", type=int, default=12000, help="events per measurement, default %(default)s")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.rounds, a.audit_events = 3.0, 1, 1000
    audit_threads = 16  # in all, shared by the processes (like 16 concurrent downloads)
    work = Path(a.workdir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    kinds = [k.strip() for k in a.databases.split(",") if k.strip()]
    res: dict = {"cpus": os.cpu_count(), "audit_events": a.audit_events, "audit_threads": audit_threads,
                 "size": a.size, "threads": a.threads, "rounds": a.rounds, "seconds": a.seconds,
                 "audit": {}, "downloads": {}}  # fmt: skip
    pg_admin, pg_dir = "", None
    try:
        if "postgresql" in kinds:
            pg_admin, pg_dir = start_postgres(work)
            print(f"PostgreSQL (durable) at {pg_admin}")
        # Audit appends first, in interleaved rounds (the median of each is reported): a single
        # run of a few thousand events moves by a third from one run to the next on these machines.
        runs: dict[str, list[dict]] = {}
        for r in range(a.rounds):
            for kind in kinds:
                for n in (1, 2):
                    key = f"{kind}-{n}"
                    print(f"{key}: audit appends, round {r + 1} ...", flush=True)
                    runs.setdefault(key, []).append(one := bench_audit(work, kind, pg_admin, n, a.audit_events, audit_threads))
                    print(f"  {one['eps']:.0f} durable events/s ({one['events']} in {one['seconds']:.2f} s, "
                          f"{one['events_per_commit']:.1f} per commit, chain verified)")  # fmt: skip
        for key, measured in runs.items():
            res["audit"][key] = sorted(measured, key=lambda m: m["eps"])[len(measured) // 2] | {
                "eps_runs": [round(m["eps"]) for m in measured]}
        for kind in kinds:
            for n in (1, 2):
                key = f"{kind}-{n}"
                print(f"{key}: review-link downloads ...", flush=True)
                res["downloads"][key] = d = bench_downloads(work, kind, pg_admin, n, a.threads, a.seconds, a.rounds, a.size)
                print("  " + ", ".join(f"{name} {v['rps']:.0f}/s (p99 {v['p99_ms']:.0f} ms)"
                                       for name, v in d.items() if name != "verify"))  # fmt: skip
    except (BenchError, OSError, subprocess.SubprocessError) as exc:
        print(f"\nBENCHMARK BROKEN: {exc}", file=sys.stderr)
        return 2
    finally:
        if pg_dir is not None:
            subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "stop", str(pg_dir)], check=False)
    if "sqlite" not in kinds:
        print(json.dumps(res, indent=1))
        return 0
    report(res)
    (work / "bench-results.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nresults written to {work / 'bench-results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
