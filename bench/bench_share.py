#!/usr/bin/env python
"""Benchmark: sharing (the freeze) against the floor of ``cp`` + ``openssl sha256`` + ``sync``.

For a big file and a folder of small files, in interleaved rounds (medians), on the same
filesystem: the floor (a copy to a fresh file, the source's SHA-256 and a sync, as
subprocesses), the core's plain freeze (``BlobStore.freeze``, each file fsync'd before it is
renamed into place), the encrypted freeze (``BlobStore.freeze_encrypted``) and the whole
``datasets.share`` through a core (open and reviewer-only). Every store is fresh.

A measurement, not a test: exits 0 even when a target FAILs, non-zero when something breaks.
Run from the repository root:  python bench/bench_share.py [--quick]   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MiB = 1 << 20
TARGET = 1.5  # at most this many times the floor


def make_file(path: Path, size: int) -> None:
    """``size`` bytes of random-ish data (reused if already the right size)."""
    if path.is_file() and path.stat().st_size == size:
        return
    pool = os.urandom(8 * MiB)
    with open(path, "wb") as f:
        for i in range(0, size, MiB):
            off = (i // MiB * 4099) % (len(pool) - MiB)  # a different window of the pool each chunk
            f.write(i.to_bytes(8, "little") + pool[off + 8 : off + min(MiB, size - i)])


def make_folder(path: Path, count: int, size: int) -> None:
    if path.is_dir() and len(os.listdir(path)) == count:
        return
    path.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (path / f"f{i:05d}.bin").write_bytes(i.to_bytes(8, "little") + os.urandom(size - 8))


def sources(target: Path) -> list[Path]:
    return sorted(target.iterdir()) if target.is_dir() else [target]


def floor(target: Path, scratch: Path) -> float:
    """cp to a fresh copy + openssl sha256 of the source + sync, as subprocesses."""
    dst = scratch / "floor-copy"
    files = [str(p) for p in sources(target)]
    t = time.perf_counter()
    subprocess.run(["cp", "-r", str(target), str(dst)], check=True)
    subprocess.run(["openssl", "sha256", *files], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["sync"], check=True)
    return time.perf_counter() - t


def freeze(target: Path, scratch: Path, encrypted: bool) -> float:
    from jupyter_datashare.core.store import BlobStore

    store = BlobStore(scratch / "store")
    key = os.urandom(32)
    files = sources(target)
    t = time.perf_counter()
    for p in files:
        if encrypted:
            store.freeze_encrypted(p, "ds-bench", key)
        else:
            store.freeze(p)
    return time.perf_counter() - t


BASELINE_FREEZE = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from jupyter_datashare.core.store import BlobStore
store, key = BlobStore(Path(sys.argv[3]) / "store"), bytes(32)
t = time.perf_counter()
for p in sorted(Path(sys.argv[4]).iterdir()) if Path(sys.argv[4]).is_dir() else [Path(sys.argv[4])]:
    store.freeze_encrypted(p, "ds-bench", key) if sys.argv[2] == "1" else store.freeze(p)
print(time.perf_counter() - t)
"""


def baseline_freeze(code: str, target: Path, scratch: Path, encrypted: bool) -> float:
    """The freeze of another checkout (``--baseline``: the code before a change), in a child process."""
    out = subprocess.run([sys.executable, "-c", BASELINE_FREEZE, code, "1" if encrypted else "0", str(scratch),
                          str(target)], check=True, capture_output=True, text=True).stdout  # fmt: skip
    return float(out.split()[-1])


def share(target: Path, scratch: Path, encrypted: bool) -> float:
    """The whole ``datasets.share`` (checks, privacy scan if open, freeze, previews, commit)."""
    from jupyter_datashare.core import datasets
    from jupyter_datashare.core.clock import ManualClock
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings

    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))
    core = DataShare(Settings(root_dir=str(target.parent), data_dir=str(scratch / "data"), owner="bench",
                              owner_identities=("bench",)), clock)  # fmt: skip
    body = {"path": target.name, "title": "Bench"}
    if encrypted:
        body["access"] = {"level": "reviewer-only"}
    try:
        t = time.perf_counter()
        datasets.share(core, "bench", body)
        return time.perf_counter() - t
    finally:
        core.close()


def check_stored(target: Path, scratch: Path) -> None:
    """The plain freeze stored exactly the source's bytes under their SHA-256."""
    from jupyter_datashare.core.store import BlobStore

    store = BlobStore(scratch / "store")
    for p in sources(target)[:3]:
        sha = hashlib.sha256(p.read_bytes()).hexdigest() if p.stat().st_size < 64 * MiB else None
        got, size = store.freeze(p)
        if sha is not None and got != sha:
            raise SystemExit(f"BROKEN: {p} froze to {got}, not {sha}")
        if store.problem(got, size):
            raise SystemExit(f"BROKEN: {p}: {store.problem(got, size)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 round, 256 MiB, 500 small files")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--size-mib", type=int)
    ap.add_argument("--files", type=int)
    ap.add_argument("--file-kib", type=int, default=16)
    ap.add_argument("--no-share", action="store_true", help="skip the whole datasets.share")
    ap.add_argument("--only", choices=["big", "small"], help="one data set only")
    ap.add_argument("--baseline", help="a checkout of other code (e.g. git archive of HEAD): its freezes, interleaved")
    ap.add_argument("--workdir", default="/tmp/datashare-bench-share")
    args = ap.parse_args()
    for name, full, quick in (("rounds", 3, 1), ("size_mib", 1024, 256), ("files", 2000, 500)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    work = Path(args.workdir)
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    datas = {
        "big": (root / "big.bin", f"1 file of {args.size_mib} MiB"),
        "small": (root / "small", f"{args.files} files of {args.file_kib} KiB"),
    }
    if args.only:
        datas = {args.only: datas[args.only]}
    if "big" in datas:
        make_file(datas["big"][0], args.size_mib * MiB)
    if "small" in datas:
        make_folder(datas["small"][0], args.files, args.file_kib * 1024)
    paths = {
        "floor": floor,
        "freeze plain": lambda t, s: freeze(t, s, False),
        "freeze encrypted": lambda t, s: freeze(t, s, True),
    }
    if args.baseline:
        paths["baseline plain"] = lambda t, s: baseline_freeze(args.baseline, t, s, False)
        paths["baseline encrypted"] = lambda t, s: baseline_freeze(args.baseline, t, s, True)
    if not args.no_share:
        paths["share open"] = lambda t, s: share(t, s, False)
        paths["share reviewer-only"] = lambda t, s: share(t, s, True)

    for name, (target, _) in datas.items():
        scratch = work / "scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        check_stored(target, scratch)
        if not args.no_share:  # warm-up: the first share in a process imports what sharing needs
            small = root / "warm-up"
            make_folder(small, 2, 1024)
            share(small, scratch, False)
            share(small, scratch, True)
    times = {(d, p): [] for d in datas for p in paths}
    for r in range(args.rounds):
        for d, (target, _) in datas.items():
            for p, run in paths.items():
                scratch = work / "scratch"
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir()
                subprocess.run(["sync"], check=True)  # start from a clean page cache state
                times[(d, p)].append(run(target, scratch))
                print(f"round {r + 1} {d:5} {p:20} {times[(d, p)][-1]:7.2f} s", flush=True)
    shutil.rmtree(work / "scratch", ignore_errors=True)

    print(f"\n{args.rounds} round(s), medians; ratio = time / floor (target <= {TARGET}x)")
    for d, (target, label) in datas.items():
        total = sum(p.stat().st_size for p in sources(target))
        base = statistics.median(times[(d, "floor")])
        print(f"\n{label}:")
        for p in paths:
            m = statistics.median(times[(d, p)])
            ratio = m / base
            verdict = "" if p == "floor" else ("  PASS" if ratio <= TARGET else "  FAIL")
            print(f"  {p:20} {m:7.2f} s  {total / MiB / m:7.0f} MiB/s  {ratio:5.2f}x{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
