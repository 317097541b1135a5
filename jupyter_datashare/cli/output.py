"""What every command prints with: sizes, links, JSON."""

from __future__ import annotations

import json
import os

CLIENT = "cli"  # the client recorded in audit events the command line causes
DEFAULT_BASE_URL = "http://localhost:8888/"


def size_text(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def datashare_url(args, *parts: str) -> str:
    return args.base_url.rstrip("/") + "/datashare/" + "/".join(parts)


def absolute(path: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(path)) if path else None


def print_json(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
