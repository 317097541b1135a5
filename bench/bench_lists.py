"""How a page of a list costs with 10 rows and with 100,000 (issue 12, item 4). A measurement, not a test.

For each size, a fresh store gets that many datasets of one owner (and as many access requests),
inserted in bulk through the models; then the core listing functions that ``GET api/datasets`` and
``GET api/requests`` call are timed for the first page and for a page from the middle (its cursor
made from the middle row's key, as a client following ``next`` would have it), ``--limit`` rows
each. Prints the median of ``--repeat`` calls and the ratio of the big store to the small one
(target: flat, about 1x).

    python bench/bench_lists.py                 # 10 and 100,000 rows, pages of 100
    python bench/bench_lists.py --sizes 10 10000 --limit 50 --repeat 50
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

from jupyter_datashare.core import catalogue, paging, requests  # noqa: E402
from jupyter_datashare.core.clock import ManualClock  # noqa: E402
from jupyter_datashare.core.db import writing  # noqa: E402
from jupyter_datashare.core.models import AccessRequest, CommitteeMember, Dataset, DatasetVersion  # noqa: E402
from jupyter_datashare.core.service import DataShare  # noqa: E402
from jupyter_datashare.core.settings import Settings  # noqa: E402

OWNER = "ada"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fill(core, n: int) -> None:
    """``n`` datasets (each with a version), a committee seat for bob on each, ``n`` requests."""
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


def median_ms(fn, repeat: int) -> float:
    fn()  # warm: the first call compiles the statement
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def measure(n: int, limit: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="datashare-bench-lists-") as tmp:
        os.makedirs(os.path.join(tmp, "root"))
        core = DataShare(Settings(root_dir=os.path.join(tmp, "root"), data_dir=os.path.join(tmp, "data"), owner=OWNER),
                         ManualClock(START + timedelta(days=30)))  # fmt: skip
        try:
            t = time.perf_counter()
            fill(core, n)
            filled = time.perf_counter() - t
            middle = n // 2  # newest first: the page that starts after the row half-way down
            mid = paging.Page(limit, (START + timedelta(seconds=middle), f"ds-{middle:07d}"))
            mid_req = paging.Page(limit, (START + timedelta(seconds=middle), f"req-{middle:07d}"))
            first = paging.Page(limit)
            rows, _ = catalogue.page_owned(core, OWNER, mid)
            assert len(rows) == min(limit, middle), len(rows)
            return {
                "n": n, "fill_s": filled,
                "datasets_first": median_ms(lambda: catalogue.page_owned(core, OWNER, first), repeat),
                "datasets_middle": median_ms(lambda: catalogue.page_owned(core, OWNER, mid), repeat),
                "datasets_search": median_ms(lambda: catalogue.page_owned(core, OWNER, first, q="wave 1"), repeat),
                # A title hardly any dataset has: the search reads every title of the owner's.
                "datasets_rare": median_ms(lambda: catalogue.page_owned(core, OWNER, first, q="wave 7x"), repeat),
                "requests_first": median_ms(lambda: requests.page_visible(core, first, username="bob"), repeat),
                "requests_middle": median_ms(lambda: requests.page_visible(core, mid_req, username="bob"), repeat),
            }  # fmt: skip
        finally:
            core.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[10, 100_000], metavar=("SMALL", "BIG"))
    ap.add_argument("--limit", type=int, default=100, help="rows per page (default 100)")
    ap.add_argument("--repeat", type=int, default=30, help="timed calls per figure (median)")
    args = ap.parse_args()
    small, big = (measure(n, args.limit, args.repeat) for n in args.sizes)
    print(f"pages of {args.limit}; median of {args.repeat} calls; filled in {small['fill_s']:.1f} s / {big['fill_s']:.1f} s")
    print(f"{'figure':<34} {small['n']:>10,} rows {big['n']:>10,} rows   ratio")
    labels = {"datasets_first": "datasets, first page", "datasets_middle": "datasets, middle page",
              "datasets_search": "datasets, search (many match)", "datasets_rare": "datasets, search (none match)",
              "requests_first": "requests (bob), first page",
              "requests_middle": "requests (bob), middle page"}  # fmt: skip
    for key, label in labels.items():
        print(f"{label:<34} {small[key]:>10.2f} ms {big[key]:>10.2f} ms  {big[key] / small[key]:>5.2f}x")


if __name__ == "__main__":
    main()
