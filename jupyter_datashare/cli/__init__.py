"""``jupyter datashare``: share datasets, manage review links and check the audit log from a terminal.

A thin adapter over ``jupyter_datashare.core``: it parses arguments, calls the core with
``client="cli"`` and prints the result. User errors print ``error: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from .. import config
from ..core.errors import DataShareError, InvalidInput
from ..core.settings import MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, SIGNING_KEY_FILE_ENV, default_data_dir, default_owner
from . import audit, datasets, service
from .output import CLIENT, DEFAULT_BASE_URL, absolute

EXAMPLES = """examples:
  jupyter datashare share results/ --title "Field measurements" --creator "Ada Example|0000-0002-1825-0097|Example U"
  jupyter datashare share results/ --title "Paper data" --level embargoed --embargo-until 2027-01-31
  jupyter datashare link create ds-XXXX --label "Reviewer 1" --days 60
  jupyter datashare audit checkpoint > checkpoint.txt      (keep it somewhere safe)
  jupyter datashare audit verify --checkpoint checkpoint.txt
  jupyter datashare store check --repair                   (damaged files, crash leftovers)
  jupyter datashare link create ds-XXXX --DataShareApp.max_link_days=90
  jupyter datashare serve token create alice --label laptop   (an API token of the standalone service)
configuration: read like the Jupyter server's, from jupyter_server_config.py (.json) in the Jupyter
config path (`jupyter --paths`), so c.DataShareApp.* and c.ServerApp.root_dir apply here too;
--DataShareApp.NAME=VALUE overrides a setting, and the options below override both.
run `jupyter datashare COMMAND --help` for the options of each command."""


def _options(args):
    """The server's configuration, then --DataShareApp.* arguments, then our own flags; the root."""
    options = config.load(args.config_args, data_dir=absolute(args.data_dir), db_url=args.db_url or None,
                          owner=args.owner or None, master_key_file=absolute(args.master_key_file),
                          signing_key_file=absolute(args.signing_key_file))  # fmt: skip
    root = absolute(args.root_dir) or config.server_root_dir(options) or os.getcwd()
    if not os.path.isdir(root):
        raise InvalidInput("--root-dir" if args.root_dir else "ServerApp.root_dir", f"'{root}' is not a folder")
    args.options = options  # `serve` configures the service from the same object
    if args.func is service.cmd_serve and getattr(args, "hub", False) and not options.public_base_url:
        # As a hub service, links are at the service's public URL when the hub has one.
        options.public_base_url = os.environ.get("JUPYTERHUB_PUBLIC_URL", "")
    # Printed links look like the server's own: public_base_url + datashare/…, if configured.
    args.base_url = args.base_url or config.public_url(options) or DEFAULT_BASE_URL
    return options, root


def _context(args):
    """The local core, or for the dataset and link commands the interface: the local core, or the
    service when c.DataShareApp.service_url is set (client mode)."""
    from ..core.service import DataShare

    options, root = _options(args)
    try:
        if args.func in datasets.ON_BACKEND:
            from ..backends import open_backend

            return open_backend(options, root, client=CLIENT, base_url=args.base_url)
        # The service has many owners: each shares from their own folder.
        return DataShare(options.core_settings(root, many_owners=args.func is service.cmd_serve), options.clock)
    except SQLAlchemyError as exc:  # a bad --db-url, an unreachable server, a damaged file
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InvalidInput("--db-url", f"cannot open the database: {reason}") from None
    except ImportError as exc:
        raise InvalidInput("--db-url", f"its database driver is not installed ({exc})") from None


def _globals(p: argparse.ArgumentParser, top: bool) -> None:
    """The options saying where the data lives; a subcommand's copy must not reset the top-level value."""
    g = p.add_argument_group("where the data lives (also accepted before the command; "
                             "each overrides the server's configuration)")
    for flag, metavar, default, text in (
        ("--root-dir", "DIR", None, "folder whose files may be shared, as the Jupyter server's root "
                                    "(default: c.ServerApp.root_dir, else the current folder)"),
        ("--data-dir", "DIR", None, f"database and file store, as c.DataShareApp.data_dir (default: {default_data_dir()})"),
        ("--db-url", "URL", None, "SQLAlchemy database URL, as c.DataShareApp.db_url (default: SQLite in the data dir)"),
        ("--owner", "NAME", None, f"owner of the datasets, as c.DataShareApp.owner (default: {default_owner()})"),
        ("--master-key-file", "FILE", None, f"file holding the key that wraps encrypted datasets' keys, as "
                                            f"c.DataShareApp.master_key_file (default: ${MASTER_KEY_FILE_ENV}, else "
                                            f"master.key in the data dir; ${MASTER_KEY_ENV} may hold the key itself)"),
        ("--signing-key-file", "FILE", None, f"file holding the key that signs audit checkpoints, as "
                                             f"c.DataShareApp.signing_key_file (default: ${SIGNING_KEY_FILE_ENV}, "
                                             f"else audit-signing.key in the data dir)"),
        ("--base-url", "URL", None, f"URL of the Jupyter server, used to print links (default: "
                                    f"c.DataShareApp.public_base_url, else {DEFAULT_BASE_URL})"),
    ):  # fmt: skip
        g.add_argument(flag, metavar=metavar, default=default if top else argparse.SUPPRESS, help=text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter datashare", description="Share datasets from your Jupyter folder under controlled access: "
        "open, embargoed, reviewer-only or restricted, with private review links and a tamper-evident audit log.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)  # fmt: skip
    _globals(parser, True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(group, name, func, help, description=None):
        p = group.add_parser(name, help=help, description=description or help)
        p.set_defaults(func=func)
        _globals(p, False)
        return p

    datasets.add_commands(sub, command)
    audit.add_commands(sub, command)
    service.add_commands(sub, command)
    datasets.add_demo(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv, config_args = config.split_config_args(sys.argv[1:] if argv is None else list(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already explained by argparse
        return exc.code if isinstance(exc.code, int) else 2
    args.config_args = config_args
    ctx = None
    try:
        if args.command == "demo":
            os.makedirs(args.dir, exist_ok=True)
            args.root_dir = args.dir
        ctx = _context(args)
        return args.func(ctx, args) or 0
    except DataShareError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `audit export | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        if ctx is not None:
            ctx.close()

