"""Starting a server with the extension (or the service, or the CLI) imports no table library:
pandas alone cost 0.45 s of every start; it is imported when a preview or a privacy scan reads a
table, or a notebook call returns one."""

import subprocess
import sys

HEAVY = ("pandas", "numpy", "pyarrow")


def test_loading_the_extension_the_service_and_the_cli_imports_no_table_library():
    code = (
        "import sys\n"
        "import jupyter_datashare\n"
        "from jupyter_datashare.server import app, routes\n"
        "from jupyter_datashare.service import app as service_app\n"
        "from jupyter_datashare import cli\n"
        "app.DataShareApp\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_preview_still_reads_its_table(tmp_path):
    from jupyter_datashare.core import previews

    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,\n")
    p = previews.preview(str(tmp_path / "t.csv"), "t.csv")
    assert p["rows"] == 2 and p["missing"] == {"a": 0, "b": 1} and p["head"][1] == [3, None]
