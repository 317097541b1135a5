"""A privacy check before data goes public: direct identifiers in tables, identifying traces in
notebooks. Findings name the file, the column and how many values look identifying — never the
values themselves, so the report can be shown and logged safely."""

from __future__ import annotations

import json
import os
import re
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is read: it cost the server's start 0.45 s
    import pandas as pd

SAMPLE_ROWS = 5000  # enough to see a pattern; reading stays bounded whatever the file size
TABLES = {".csv": ",", ".tsv": "\t", ".txt": None, ".jsonl": None}

_NAME_HINTS = {
    "e-mail address": re.compile(r"e-?mail", re.I),
    "phone number": re.compile(r"phone|mobile|\btel\b|telephone", re.I),
    "national ID": re.compile(r"ssn|social.?security|national.?id|passport|nino|\bbsn\b|personnummer|\bnhs\b", re.I),
    "date of birth": re.compile(r"\bdob\b|birth.?date|date.?of.?birth|geburtsdatum", re.I),
    "name": re.compile(r"^(full|first|last|given|family|sur|middle)?[_ ]?name$|^(first|last|sur)name$|patient.?name", re.I),
    "precise location": re.compile(r"^(lat|latitude|lon|lng|long|longitude)$|gps|coordinates?", re.I),
    "street address": re.compile(r"street|address|postcode|zip.?code", re.I),
}
_PHONE = re.compile(r"^\+?[\d ().-]{9,20}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
_VALUE_PATTERNS = {
    "e-mail address": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$").match,
    # 9 to 15 digits written like a phone number; dates and plain measurements are not phones.
    "phone number": lambda v: bool(_PHONE.match(v)) and not _DATE.match(v) and 9 <= sum(c.isdigit() for c in v) <= 15
    and not v.replace(".", "", 1).isdigit(),
    "national ID": re.compile(r"^(\d{3}-\d{2}-\d{4}|[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]|\d{6}[-+]\d{4})$").match,
}


def _table(path, ext: str | None = None) -> pd.DataFrame | None:
    """``path`` is a file name or a binary buffer (then ``ext`` says what it holds)."""
    import pandas as pd

    ext = ext or os.path.splitext(path)[1].lower()
    try:
        if ext in (".csv", ".tsv"):
            return pd.read_csv(path, sep=TABLES[ext], nrows=SAMPLE_ROWS, dtype=str, on_bad_lines="skip")
        if ext == ".jsonl":
            return pd.read_json(path, lines=True, nrows=SAMPLE_ROWS, dtype=False).astype(str)
        if ext == ".parquet":
            import pyarrow.parquet as pq  # optional

            return next(pq.ParquetFile(path).iter_batches(batch_size=SAMPLE_ROWS)).to_pandas().astype(str)
    except (ValueError, ImportError, StopIteration, UnicodeDecodeError, pd.errors.ParserError):
        return None
    return None


def _decimals(value: str) -> int:
    return len(value.split(".", 1)[1]) if "." in value else 0


def scan_table(df: pd.DataFrame) -> list[dict]:
    import pandas as pd

    findings = []
    for column in df.columns:
        values = df[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        kinds: dict[str, int] = {}
        for kind, pattern in _VALUE_PATTERNS.items():
            hits = int(values.map(lambda v, p=pattern: bool(p(v))).sum())
            if hits and hits >= 0.5 * len(values):
                kinds[kind] = hits
        for kind, hint in _NAME_HINTS.items():
            if hint.search(str(column)) and kind not in kinds:
                if kind == "precise location":
                    numeric = pd.to_numeric(values, errors="coerce").dropna()
                    precise = int(sum(_decimals(v) >= 4 for v in values[numeric.index]))
                    if precise:
                        kinds[kind] = precise
                else:
                    kinds[kind] = len(values)
        findings += [{"column": str(column), "kind": k, "count": n} for k, n in kinds.items()]
    return findings


def _notebook_traces(path, identities: list[str]) -> list[dict]:
    try:
        if isinstance(path, (str, os.PathLike)):
            with open(path, encoding="utf-8") as f:
                text = json.dumps(json.load(f))
        else:
            text = json.dumps(json.load(path))
    except (OSError, ValueError):
        return []
    patterns = {
        "home folder path": re.compile(r"(/home/[^/\\\"\s]+|/Users/[^/\\\"\s]+|[A-Za-z]:\\\\+Users\\\\+[^\\\"]+)"),
        "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
        "host name": re.compile(re.escape(socket.gethostname())) if socket.gethostname() else None,
    }
    found = []
    for kind, pattern in patterns.items():
        if pattern is None:
            continue
        n = len(pattern.findall(text))
        if n:
            found.append({"kind": kind, "count": n})
    for ident in identities:
        if ident and len(ident) >= 3:
            n = len(re.findall(re.escape(ident), text, re.I))
            if n:
                found.append({"kind": "your identity (name, user name or e-mail)", "count": n})
    return found


def scan_files(files, identities=(), tables: bool = True) -> list[dict]:
    """Scan (dataset path, file on disk or binary buffer) pairs; findings have ``file`` set."""
    findings = []
    for rel, full in files:
        ext = os.path.splitext(rel)[1].lower()
        if ext == ".ipynb":
            findings += [{"file": rel, **f} for f in _notebook_traces(full, list(identities))]
            continue
        if not tables:
            continue
        df = _table(full, ext)
        if df is not None:
            findings += [{"file": rel, **f} for f in scan_table(df)]
    return findings


def identities_of(owner: str, creators: list[dict]) -> list[str]:
    """What would identify the authors in an anonymous review: names, user name, home folder."""
    out = {owner, os.path.expanduser("~")}
    for c in creators or []:
        out.add(c.get("name", ""))
        out.add(c.get("orcid", "") or "")
        out.add(c.get("affiliation", "") or "")
    return sorted(x for x in out if x and x not in ("~", "/"))


SCAN_BYTES = 16 << 20  # per stored file: the head of a table, or a whole notebook


def scan_dataset(ctx, owner: str, dataset, *, identities=(), tables: bool = True) -> list[dict]:
    """Scan the frozen files of the latest version (decrypting through the one read function)."""
    import io

    from . import datasets, reads
    from .policy import Principal

    _, rows = datasets.version_files(ctx, dataset.id, dataset.latest_version)
    named = [{"file": r.path, "kind": "your identity in a file name", "count": 1}
             for r in rows if any(len(i) >= 3 and i.lower() in r.path.lower() for i in identities)]  # fmt: skip
    wanted = [r for r in rows if os.path.splitext(r.path)[1].lower() in (*TABLES, ".parquet", ".ipynb")]
    buffers = []
    for row in wanted:
        if not tables and not row.path.lower().endswith(".ipynb"):
            continue
        fr = reads.open_file(ctx, dataset, Principal("owner", owner), row.path, client="privacy-check")
        data, size = bytearray(), 0
        for chunk in fr.chunks():
            data += chunk
            size += len(chunk)
            if size >= SCAN_BYTES:
                break
        buffers.append((row.path, io.BytesIO(bytes(data))))
    return named + scan_files(buffers, identities, tables)


def require_override(findings: list[dict], override) -> str | None:
    """Refuse to make data open with findings unless overridden with a reason; returns the reason."""
    from .errors import InvalidInput

    if override in (None, {}, False):
        if findings:
            raise InvalidInput(
                "privacy_override",
                f"the privacy check found {len(findings)} possible direct identifier(s) "
                f"({', '.join(sorted({f['kind'] for f in findings}))}); review them, or share anyway by "
                "setting privacy_override with a reason",
                findings=findings,
            )
        return None
    if not isinstance(override, dict) or not isinstance(override.get("reason"), str) or not override["reason"].strip():
        raise InvalidInput("privacy_override.reason", "say why the data may be open despite the findings")
    return override["reason"].strip()
