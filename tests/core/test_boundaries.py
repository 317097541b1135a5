"""The core is plain Python: the server, CLI and notebook API are adapters over it."""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "jupyter_datashare" / "core"


def test_the_core_imports_no_tornado():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import jupyter_datashare.core.{m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tornado', 'jupyter_server'))\n"
        + "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(modules) >= 12


def test_only_reads_opens_stored_files():
    """One function decides every read of dataset bytes: nobody else opens blobs."""
    users = [p.name for p in CORE.glob("*.py") if "store.open(" in p.read_text() or "_store.open(" in p.read_text()]
    assert users == ["reads.py"]
