"""Table previews and a data quality summary, computed once at share time.

Reviewers see a table's shape and first rows in the browser without downloading it. Reading is
bounded: at most ``SAMPLE_ROWS`` rows (and the file is never loaded whole), so a multi-GB file
costs the same as a small one; figures that would need the whole file say they are estimates.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is read: it cost the server's start 0.45 s
    import pandas as pd

SAMPLE_ROWS = 10_000
PREVIEW_ROWS = 20
READERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
TABULAR = (*READERS, ".jsonl", ".ndjson", ".parquet", ".xlsx", ".xls")


def _read(path: str, ext: str) -> tuple[pd.DataFrame, int | None]:
    """The first rows of a table, and its row count when known without reading it all."""
    import pandas as pd

    if ext in READERS:
        reader = pd.read_csv(path, sep=READERS[ext], chunksize=SAMPLE_ROWS, low_memory=True)
        df = next(reader, pd.DataFrame())
        complete = next(reader, None) is None
        reader.close()
        return df, len(df) if complete else None
    if ext in (".jsonl", ".ndjson"):
        reader = pd.read_json(path, lines=True, chunksize=SAMPLE_ROWS)
        df = next(iter(reader), pd.DataFrame())
        reader.close()
        return df, len(df) if len(df) < SAMPLE_ROWS else None
    if ext == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        return next(pf.iter_batches(batch_size=SAMPLE_ROWS)).to_pandas(), pf.metadata.num_rows
    df = pd.read_excel(path, nrows=SAMPLE_ROWS)
    return df, len(df) if len(df) < SAMPLE_ROWS else None


def _json_value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def preview(path: str, name: str) -> dict | None:
    """A preview of one file, or None for files that are not tables. Never raises: a file
    that cannot be read as a table gets a clear message instead, and sharing goes on."""
    ext = os.path.splitext(name)[1].lower()
    if ext not in TABULAR:
        return None
    import pandas as pd

    try:
        df, total = _read(path, ext)
    except ImportError as exc:
        return {"error": f"no preview: reading {ext} files needs an extra package ({exc.name})"}
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return {"error": f"no preview: the file could not be read as a table ({first})"}
    complete = total is not None and total <= len(df)
    rows, rows_note = (total, "exact") if total is not None else (_estimate_lines(path, len(df)), "estimated")
    return {
        "columns": [{"name": str(c), "type": str(t)} for c, t in df.dtypes.items()],
        "rows": rows,
        "rows_are": rows_note,
        "summary_of": "all rows" if complete else f"the first {len(df):,} rows",
        "missing": {str(c): int(n) for c, n in df.isna().sum().items()},
        "duplicate_rows": int(df.duplicated().sum()),
        "head": [[_json_value(v) for v in row] for row in df.head(PREVIEW_ROWS).itertuples(index=False)],
    }


def _estimate_lines(path: str, sampled_rows: int) -> int:
    """Rows of a large text table, from the average length of its first lines."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    lines = head.count(b"\n")
    return int(size / max(1, len(head)) * lines) - 1 if lines else sampled_rows


def public_part(p: dict | None, rows_allowed: bool) -> dict | None:
    """Restricted and embargoed data: schema and summary only, never rows (unless opted in)."""
    if p is None or rows_allowed or "head" not in p:
        return p
    return {k: v for k, v in p.items() if k != "head"} | {"head_hidden": True}
