"""How a page of a list costs with 10 rows and with 100,000 (issue 12, item 4). A measurement, not a test.

For each size, a fresh store gets that many datasets of one owner (and as many access requests),
inserted in bulk through the models; then the core listing functions that ``GET api/datasets`` and
``GET api/requests`` call are timed for the first page and for a page from the middle (its cursor
made from the middle row's key, as a client following ``next`` would have it), ``--limit`` rows
each. Prints the median of ``--repeat`` calls and the ratio of the big store to the small one
(target: flat, about 1x).

    python bench/bench_lists.py                 # 10 and 100,000 rows, pages of 10
    python bench/bench_lists.py --sizes 100 100000 --limit 100   # the API's default page
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

from sqlalchemy import insert  # noqa: E402

from jupyter_datashare.core import catalogue, paging, request_pages  # noqa: E402
from jupyter_datashare.core.clock import ManualClock  # noqa: E402
from jupyter_datashare.core.db import writing  # noqa: E402
from jupyter_datashare.core.models import AccessRequest, CommitteeMember, Dataset, DatasetVersion  # noqa: E402
from jupyter_datashare.core.service import DataShare  # noqa: E402
from jupyter_datashare.core.settings import Settings  # noqa: E402

OWNER = "ada"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fill(core, n: int) -> None:
    """``n`` datasets (each with a version), a committee seat for bob on each, a request for each."""
    batch = 10_000
    with writing(core.engine) as s:
        for lo in range(0, n, batch):
            ids = range(lo, min(n, lo + batch))
            s.execute(insert(Dataset), [dict(
                id=f"ds-{i:07d}", owner=OWNER, source_path=f"d{i}", include_hidden=False, title=f"Survey wave {i}",
                description="", creators=[], keywords=[], license_id="CC-BY-4.0", provenance="",
                rights_declaration={}, access_level="restricted" if i % 3 == 0 else "open",
                embargo_lift_recorded=False, latest_version=1, created_at=START + timedelta(seconds=i),
                updated_at=START, required_approvals=1, decision_rule="veto", use_conditions=[], agreement="",
                preview_rows_public=False) for i in ids])  # fmt: skip
            s.execute(insert(DatasetVersion), [dict(dataset_id=f"ds-{i:07d}", number=1, created_at=START,
                                                    file_count=3, total_size=1000) for i in ids])  # fmt: skip
            s.execute(insert(CommitteeMember), [dict(id=f"cm-{i:07d}", dataset_id=f"ds-{i:07d}", username="bob",
                                                     name="Bob", added_at=START) for i in ids])  # fmt: skip
            s.execute(insert(AccessRequest), [dict(
                id=f"req-{i:07d}", dataset_id=f"ds-{i:07d}", status="pending", name="R", email="r@uni.example",
                institution="U", purpose="p", intended_use=["GRU"], commercial=False, agreement_sha256="",
                requested_days=30, flags=[], status_secret_hash=f"s{i}", grant_secret_hash=f"g{i}",
                submitted_at=START + timedelta(seconds=i)) for i in ids])  # fmt: skip


def plan(core, query) -> str:
    """SQLite's plan for a statement (which index a page reads)."""
    with core.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return "(not SQLite)"
        compiled = query.compile(dialect=conn.dialect)
        params = tuple(compiled.params[k] for k in compiled.positiontup)
        return "; ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params))


def calls(core, n: int, limit: int) -> dict:
    """The timed calls on a store of ``n`` rows, by figure."""
    middle = n // 2  # newest first: the page that starts after the row half-way down
    at = START + timedelta(seconds=middle)
    first = paging.Page(limit)
    mid, mid_req = paging.Page(limit, (at, f"ds-{middle:07d}")), paging.Page(limit, (at, f"req-{middle:07d}"))
    rows, _ = catalogue.page_owned(core, OWNER, mid)
    assert len(rows) == min(limit, middle), len(rows)
    return {
        "datasets_first": lambda: catalogue.page_owned(core, OWNER, first),
        "datasets_middle": lambda: catalogue.page_owned(core, OWNER, mid),
        "datasets_search": lambda: catalogue.page_owned(core, OWNER, first, q="wave 1"),
        # A title no dataset has: the search reads every title of the owner's.
        "datasets_rare": lambda: catalogue.page_owned(core, OWNER, first, q="wave 7x"),
        "requests_first": lambda: request_pages.page_visible(core, first, username="bob"),
        "requests_middle": lambda: request_pages.page_visible(core, mid_req, username="bob"),
        "requests_owner": lambda: request_pages.page_visible(core, first, owner=OWNER),
        "requests_one": lambda: request_pages.page_visible(core, first, username="bob", dataset_id=f"ds-{n - 1:07d}"),
    }  # fmt: skip


def open_store(tmp: str, n: int):
    os.makedirs(os.path.join(tmp, "root"))
    core = DataShare(Settings(root_dir=os.path.join(tmp, "root"), data_dir=os.path.join(tmp, "data"), owner=OWNER),
                     ManualClock(START + timedelta(days=30)))  # fmt: skip
    t = time.perf_counter()
    fill(core, n)
    return core, time.perf_counter() - t


def interleaved(small: dict, big: dict, repeat: int) -> dict:
    """Median ms per figure, small and big timed one after the other in each round (a busy
    machine slows both alike)."""
    out = {}
    for key in small:
        small[key](), big[key]()  # warm: the first call compiles the statements
        times: tuple[list, list] = ([], [])
        for _ in range(repeat):
            for i, fn in enumerate((small[key], big[key])):
                t = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t)
        out[key] = tuple(statistics.median(x) * 1000 for x in times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[10, 100_000], metavar=("SMALL", "BIG"))
    ap.add_argument("--limit", type=int, default=10, help="rows per page (default 10: a full page at both sizes)")
    ap.add_argument("--repeat", type=int, default=30, help="timed calls per figure (median)")
    args = ap.parse_args()
    small_n, big_n = args.sizes
    with tempfile.TemporaryDirectory(prefix="datashare-bench-lists-") as tmp:
        small, small_s = open_store(os.path.join(tmp, "small"), small_n)
        big, big_s = open_store(os.path.join(tmp, "big"), big_n)
        try:
            figures = interleaved(calls(small, small_n, args.limit), calls(big, big_n, args.limit), args.repeat)
            owners = catalogue._ROW.where(Dataset.owner == OWNER, Dataset.withdrawn_at.is_(None))
            mid = paging.Page(args.limit, (START + timedelta(seconds=big_n // 2), f"ds-{big_n // 2:07d}"))
            plans = {name: plan(big, paging.newest_first(owners, Dataset.created_at, Dataset.id, p))
                     for name, p in (("first page", paging.Page(args.limit)), ("middle page", mid))}  # fmt: skip
        finally:
            small.close()
            big.close()
    print(f"pages of {args.limit}; median of {args.repeat} interleaved calls; filled in {small_s:.1f} s / {big_s:.1f} s")
    print(f"{'figure':<34} {small_n:>10,} rows {big_n:>10,} rows   ratio")
    labels = {"datasets_first": "datasets, first page", "datasets_middle": "datasets, middle page",
              "datasets_search": "datasets, search (many match)", "datasets_rare": "datasets, search (none match)",
              "requests_first": "requests (bob), first page",
              "requests_middle": "requests (bob), middle page", "requests_owner": "requests (the owner), first page",
              "requests_one": "requests of one dataset"}  # fmt: skip
    for key, label in labels.items():
        a, b = figures[key]
        print(f"{label:<34} {a:>10.2f} ms {b:>10.2f} ms  {b / a:>5.2f}x")
    for name, text in plans.items():
        print(f"plan of the datasets' {name} at {big_n:,}: {text}")

if __name__ == "__main__":
    main()
