import os
import subprocess
import sys

import pandas as pd

from jupyter_datashare.core import previews


def test_summary_of_a_small_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("site,temp,note\nA,12.5,\nB,,dry\nA,12.5,\n")
    p = previews.preview(str(path), "t.csv")
    assert [c["name"] for c in p["columns"]] == ["site", "temp", "note"] and p["columns"][1]["type"] == "float64"
    assert (p["rows"], p["rows_are"], p["duplicate_rows"]) == (3, "exact", 1)
    assert p["missing"] == {"site": 0, "temp": 1, "note": 2}
    assert p["head"][0] == ["A", 12.5, None]


def test_unsupported_and_malformed_files_get_a_message(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    assert previews.preview(str(tmp_path / "x.bin"), "x.bin") is None
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,"unterminated\n')
    out = previews.preview(str(bad), "bad.csv")
    assert out["error"].startswith("no preview: the file could not be read as a table")
    parquet = tmp_path / "t.parquet"
    parquet.write_bytes(b"PAR1 not really")
    assert "no preview" in previews.preview(str(parquet), "t.parquet")["error"]


def _peak_rss_mib(code: str) -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking process (the test run,
    # often larger than any child), which made all three figures equal in a full run.
    peak = "\nprint(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))"
    out = subprocess.run([sys.executable, "-c", code + peak], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def test_a_large_file_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    chunk = pd.DataFrame({"i": range(100_000), "x": [1.5] * 100_000, "s": ["abcdefghij"] * 100_000})
    with open(path, "w") as f:
        for k in range(30):  # 3 million rows, about 70 MB
            chunk.to_csv(f, header=(k == 0), index=False)
    assert os.path.getsize(path) > 60_000_000
    p = previews.preview(str(path), "big.csv")
    assert p["rows_are"] == "estimated" and 2_500_000 < p["rows"] < 3_500_000
    assert p["summary_of"] == "the first 10,000 rows"
    # Peak memory of a process that previews the file, against one that only imports the same.
    base = _peak_rss_mib("import pandas, jupyter_datashare.core.previews")
    used = _peak_rss_mib(f"from jupyter_datashare.core import previews; previews.preview({str(path)!r}, 'big.csv')")
    whole = _peak_rss_mib(f"import pandas; pandas.read_csv({str(path)!r})")
    assert used - base < 40 and whole - base > 3 * (used - base)
