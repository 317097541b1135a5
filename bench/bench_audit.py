"""The audit log at a million events (issue 12, items 4 and 5). A measurement, not a test.

For each size a fresh store gets that many events, inserted in bulk: the rows are chained here
exactly as ``AuditLog`` chains them (``audit.chain``: SHA-256 of the previous hash and the row's
canonical JSON), a signed checkpoint every 1,000 events with the store's own key, the head row
last, all in one transaction through SQLAlchemy Core (about 15 s for a million on 2 vCPUs; an
append through ``record`` would take hours). The events are spread over 100 datasets and four
actions, one of them rare (one event in 500): from 100,000 events on, every filtered first page
is a full one, so the sizes compare like with like (a store of 10 events serves pages of 10).

Then, on the big store, it times ``AuditLog.verify``: from event #1 (``--full``), and from a point
``--tail`` events back (the newest mark of an earlier verification, as `audit verify` finds it
run after run, and a trusted checkpoint note, as `audit verify --checkpoint FILE`); target for
the latter two: under 1 s. And on every store, the first page of the audit list
(``AuditLog.events``, what ``GET api/audit`` calls: newest first, ``--limit`` events, one more to
know whether a next page follows) with no filter, one dataset, one action, both, and a page from
the middle of the log (``before=<seq>`` as a client following ``next`` sends it; the old
``offset`` for comparison). Prints medians of ``--repeat`` calls and the big/small ratio (target:
flat, about 1x).

    python bench/bench_audit.py                      # 10, 100,000 and 1,000,000 events
    python bench/bench_audit.py --sizes 10 100000 --repeat 20
    python bench/bench_audit.py --workdir /tmp/bench-audit   # build once (minutes), measure again later
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import delete, insert, text  # noqa: E402

from jupyter_datashare.core import signing  # noqa: E402
from jupyter_datashare.core.audit import GENESIS, _ts, chain  # noqa: E402
from jupyter_datashare.core.clock import ManualClock  # noqa: E402
from jupyter_datashare.core.db import writing  # noqa: E402
from jupyter_datashare.core.models import AuditCheckpoint, AuditEvent, AuditHead, AuditVerified  # noqa: E402
from jupyter_datashare.core.service import DataShare  # noqa: E402
from jupyter_datashare.core.settings import Settings  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DATASETS = 100
ACTIONS = ("file.downloaded", "grant.used", "review.viewed")
RARE = "link.created"  # one event in 500
CHECKPOINT_EVERY = 1000
BATCH = 20_000


def event_row(seq: int) -> dict:
    return {"seq": seq, "ts": _ts(START + timedelta(milliseconds=seq)), "actor": f"link:lnk-{seq % 977}",
            "action": RARE if seq % 500 == 0 else ACTIONS[seq % 3], "outcome": "allowed",
            "dataset_id": f"ds-{seq % DATASETS:04d}", "version": 1, "file": f"part-{seq % 5000:05d}.csv",
            "byte_range": None, "reason": None, "client": "10.0.0.1", "link_id": f"lnk-{seq % 977}",
            "grant_id": None, "details": None}  # fmt: skip


def fill(core, n: int) -> dict[int, str]:
    """``n`` chained events with signed checkpoints; returns the notes by size."""
    key, origin = core.audit.key, core.audit.origin
    prev, notes = GENESIS, {}
    with writing(core.engine) as s:
        conn = s.connection()
        for lo in range(1, n + 1, BATCH):
            rows, checkpoints = [], []
            for seq in range(lo, min(n, lo + BATCH - 1) + 1):
                row = event_row(seq)
                row["entry_hash"] = prev = chain(prev, row)
                rows.append(row)
                if seq % CHECKPOINT_EVERY == 0:
                    at = _ts(START + timedelta(milliseconds=seq))
                    note = signing.sign_checkpoint(key, signing.Checkpoint(origin, seq, prev, at))
                    checkpoints.append({"size": seq, "head_hash": prev, "created_at": at, "note": note})
                    notes[seq] = note
            conn.execute(insert(AuditEvent.__table__), rows)
            if checkpoints:
                conn.execute(insert(AuditCheckpoint.__table__), checkpoints)
        conn.execute(insert(AuditHead.__table__).values(id=1, size=n, head_hash=prev, checkpointed_size=n - n % CHECKPOINT_EVERY))
    return notes


def median_ms(fn, repeat: int, setup=None) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def forget_marks_after(core, size: int):
    def run():
        with writing(core.engine) as s:
            s.execute(delete(AuditVerified).where(AuditVerified.size > size))
    return run


def list_figures(core, n: int, limit: int, repeat: int) -> dict[str, float]:
    events = core.audit.events
    middle = n // 2 + 1
    mine = {f"ds-{i:04d}" for i in range(10)}  # a tenth of the log
    cases = {
        "first page": lambda: events(limit=limit + 1, newest_first=True),
        "first page, one dataset": lambda: events(dataset_id="ds-0007", limit=limit + 1, newest_first=True),
        "first page, one rare action": lambda: events(action=RARE, limit=limit + 1, newest_first=True),
        "first page, dataset and action": lambda: events(dataset_id="ds-0007", action=ACTIONS[0],
                                                         limit=limit + 1, newest_first=True),  # fmt: skip
        "middle page, before=<seq>": lambda: events(before=middle, limit=limit + 1, newest_first=True),
        "middle page, one dataset, before=<seq>": lambda: events(dataset_id="ds-0007", before=middle,
                                                                 limit=limit + 1, newest_first=True),  # fmt: skip
        "middle page, offset (old)": lambda: events(offset=n // 2, limit=limit + 1, newest_first=True),
        "first page, a caller's 10 datasets (service)": lambda: events(within=mine, limit=limit + 1, newest_first=True),
    }
    for fn in cases.values():
        fn()  # warm the cache: every figure is of a page read again, as a panel reads it
    return {name: median_ms(fn, repeat) for name, fn in cases.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 100_000, 1_000_000])
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--tail", type=int, default=1000, help="events after the verified point (default 1,000)")
    p.add_argument("--full-repeat", type=int, default=1, help="full verifications timed (each takes long)")
    p.add_argument("--workdir", help="keep the stores here and use them again next time (default: a temporary folder)")
    args = p.parse_args()

    lists: dict[int, dict[str, float]] = {}
    verify: dict[str, float] = {}
    big = max(args.sizes)
    with tempfile.TemporaryDirectory(prefix="datashare-bench-audit-") as tmp:
        for n in args.sizes:
            where = args.workdir or tmp
            root, data = os.path.join(where, f"root-{n}"), os.path.join(where, f"data-{n}")
            built = os.path.isdir(root)
            os.makedirs(root, exist_ok=True)
            core = DataShare(Settings(root_dir=root, data_dir=data, owner="ada", checkpoint_every=CHECKPOINT_EVERY),
                             ManualClock(START + timedelta(days=30)))  # fmt: skip
            try:
                t = time.perf_counter()
                if built:
                    with core.engine.connect() as c:
                        notes = dict(c.execute(text("SELECT size, note FROM audit_checkpoints")).all())
                        c.execute(text("DELETE FROM audit_verified"))
                        c.commit()
                    print(f"{n:,} events: the store of an earlier run", flush=True)
                else:
                    notes = fill(core, n)
                    print(f"{n:,} events inserted in {time.perf_counter() - t:.1f} s", flush=True)
                lists[n] = list_figures(core, n, args.limit, args.repeat)
                if n != big or n <= args.tail:
                    continue
                t = time.perf_counter()
                report = core.audit.verify(full=True)
                verify["full, from #1"] = (time.perf_counter() - t) * 1000
                assert report.ok and report.events == n, report
                if args.full_repeat > 1:
                    verify["full, from #1"] = median_ms(lambda: core.audit.verify(full=True), args.full_repeat)
                # The newest verification's mark is at n - tail: as if the log grew by ``tail``
                # events since the last `audit verify`.
                start = n - args.tail
                with writing(core.engine) as s:
                    s.execute(delete(AuditVerified))
                from jupyter_datashare.core import audit_verify

                audit_verify.record(core.audit, start, event_row_hash(core, start), 0)
                check = core.audit.verify()
                assert check.ok and check.from_size == start and check.checked == args.tail, check
                verify[f"from a verification {args.tail:,} events back"] = median_ms(
                    core.audit.verify, args.repeat, setup=forget_marks_after(core, start))
                note_at = max(s for s in notes if s <= start)
                forget_all = forget_marks_after(core, 0)
                forget_all()
                check = core.audit.verify(trusted_notes=[notes[note_at]])
                assert check.ok and check.from_size == note_at and check.from_kind == "trusted checkpoint", check
                verify[f"from a trusted checkpoint {n - note_at:,} events back"] = median_ms(
                    lambda: core.audit.verify(trusted_notes=[notes[note_at]]), args.repeat, setup=forget_all)
            finally:
                core.close()

    # Against each smaller store: a store of 10 events serves pages of 10, one of 100,000 full pages.
    smaller = sorted(n for n in args.sizes if n < big)
    print(f"\nAudit list (AuditLog.events, newest first, {args.limit} + 1 rows; median of {args.repeat}):")
    print(f"| page | {' | '.join(f'{n:,} events' for n in sorted(args.sizes))} | "
          + " | ".join(f"ratio {big:,}/{n:,}" for n in smaller) + " |")
    print("|---|" + "---:|" * (len(args.sizes) + len(smaller)))
    for name in lists[big]:
        cells = " | ".join(f"{lists[n][name]:.2f} ms" for n in sorted(args.sizes))
        ratios = " | ".join(f"{lists[big][name] / lists[n][name]:.2f}x" for n in smaller)
        print(f"| {name} | {cells} | {ratios} |")
    if verify:
        print(f"\nVerify at {big:,} events (target from a checkpoint: < 1 s):")
        print("| verify | time |\n|---|---:|")
        for name, ms in verify.items():
            print(f"| {name} | {ms / 1000:.3f} s |" if ms >= 1000 else f"| {name} | {ms:.1f} ms |")


def event_row_hash(core, seq: int) -> str:
    with core.engine.connect() as c:
        return c.execute(text("SELECT entry_hash FROM audit_events WHERE seq = :s"), {"s": seq}).scalar_one()


if __name__ == "__main__":
    main()
