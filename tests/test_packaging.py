"""The installed package is a Jupyter server extension that is enabled on install."""

import re
import subprocess
import sys


def test_server_extension_is_enabled_and_valid_after_install():
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"], capture_output=True, text=True, timeout=120
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"jupyter_datashare\s+enabled", text), text
    assert re.search(r"jupyter_datashare \S+ OK", text), text
