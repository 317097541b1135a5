"""What the server extension does when it cannot start: stop the server, saying why and what to do.

jupyter-server logs an extension that fails to load and serves on without it; for this one that
would mean every landing page, review link and grant answering 404 as if the data were gone.
"""

from __future__ import annotations

from ..core.db import UpgradeFailed

ADVICE = (
    "What to do: back up the data folder (database, store/, the master key and audit-signing.key) before "
    "anything else; fix the cause if the error names one (file permissions, a full disk, a missing master "
    "key, an unreachable database) and start again; if it fails again, report this message with "
    "`pip show jupyter-datashare` to the project's issue tracker."
)


def failure_message(exc: BaseException, data_dir: str) -> str:
    cause = str(exc).strip() or repr(exc)
    lines = [
        "jupyter_datashare could not start, so this Jupyter server stops instead of running without it "
        "(every datashare page and link would answer 404).",
        f"Data folder: {data_dir}",
        f"Cause: {type(exc).__name__}: {cause}",
    ]
    if not isinstance(exc, UpgradeFailed):  # an upgrade's own message already says what to do
        lines.append(ADVICE)
    return "\n".join(lines)


def stop_server(app, exc: BaseException) -> None:
    """Log why and exit non-zero. SystemExit passes jupyter-server's ``except Exception`` around
    extension loading, so the server never starts listening."""
    app.log.critical(failure_message(exc, app.data_dir), exc_info=not isinstance(exc, UpgradeFailed))
    app.serverapp.exit(1)
