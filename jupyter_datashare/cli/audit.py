"""Commands that check what is kept: the audit log (verify, export, checkpoint) and the file
store (check, repair)."""

from __future__ import annotations

import json
import re
import sys

from ..core.errors import InvalidInput
from .output import CLIENT, print_json, size_text


# A signed checkpoint note as `audit checkpoint` prints it (several may be saved in one file).
NOTE = re.compile(r"^[^\s\n][^\n]*\n\d+\n[A-Za-z0-9+/]+=*\n[^\n]*\n\n(?:\u2014 [^\n]+(?:\n|$))+", re.M)


def _fetch(url: str, limit: int = 1 << 20) -> str:
    """A witness's published copy (a journal's, a repository's raw file), at most ``limit`` bytes."""
    from urllib.error import URLError
    from urllib.request import Request, urlopen

    try:
        with urlopen(Request(url, headers={"Accept": "text/plain"}), timeout=30) as r:  # noqa: S310 (http(s) only)
            return r.read(limit).decode("utf-8", "replace")
    except (URLError, OSError, ValueError) as exc:
        raise InvalidInput("--checkpoint", f"cannot fetch {url}: {getattr(exc, 'reason', None) or exc}") from None


def _read_notes(files: list[str]) -> list[str]:
    notes = []
    for name in files:
        if name.startswith(("http://", "https://")):
            text = _fetch(name).replace("\r\n", "\n")
        else:
            with open(name, encoding="utf-8") as f:
                text = f.read().replace("\r\n", "\n")
        if text.lstrip().startswith("{"):  # saved from datashare/checkpoint with Accept: application/json
            try:
                text = str(json.loads(text).get("checkpoint") or "")
            except (ValueError, AttributeError):
                pass
        found = [m.group(0).rstrip("\n") + "\n" for m in NOTE.finditer(text)]
        if not found:
            raise InvalidInput("--checkpoint", f"'{name}' holds no signed checkpoint")
        notes += found
    return notes


def cmd_audit_verify(ctx, args) -> int:
    from ..core import old_chains

    report = ctx.audit.verify(trusted_notes=_read_notes(args.checkpoint), full=args.full)
    moved = old_chains.verify(ctx)  # the old chains of local stores moved into a service
    for m in moved:
        if m["ok"]:
            print(f"ok: moved store {m['moved_store']} of {m['owner']}: {m['events']} old events")
        else:
            print(f"moved store {m['moved_store']} of {m['owner']} damaged: {m['problem']}", file=sys.stderr)
    if report.ok:
        print(f"ok: {report.events} events, {report.checkpoints} checkpoints")
        if not report.full:
            print(_start_line(report))
        return 0 if all(m["ok"] for m in moved) else 1
    print(f"audit log damaged: {report.problem}", file=sys.stderr)
    return 1


def _start_line(report) -> str:
    """Where a check that did not start from #1 started (events before it are not hashed again)."""
    n, m, since = report.from_size, report.events, f"the {report.from_kind} of {report.from_time}"
    if report.checked:
        return f"verified events #{n + 1}..#{m} from {since}; --full checks #1..#{n} again"
    return f"no events since {since} (#{n}); --full checks #1..#{n} again"


def cmd_audit_export(ctx, args) -> None:
    from ..core.audit import end_of
    from ..core.clock import parse_when

    # Checked before the output file is opened: a bad date leaves no empty file behind.
    filters = {"dataset_id": args.dataset, "action": args.action,
               "since": parse_when("--since", args.since) if args.since else None,
               "until": end_of("--until", args.until) if args.until else None}  # fmt: skip
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        for piece in ctx.audit.export(args.format, **filters):
            out.write(piece)
    finally:
        if args.output:
            out.close()


def cmd_audit_checkpoint(ctx, args) -> None:
    note = ctx.audit.checkpoint()
    if note is None:
        raise InvalidInput("audit", "the log is empty: there is nothing to sign yet")
    print(note)
    print(f"verifier key: {ctx.audit.verifier_key}")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(field: str, text: str) -> float:
    """Seconds from e.g. 90, 90s, 15m, 12h or 2d."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m:
        raise InvalidInput(field, f"'{text}' is not a duration such as 90s, 15m, 12h or 2d")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def cmd_store_check(ctx, args) -> int:
    from ..core import store_check

    older_than = _duration("--older-than", args.older_than)
    report = store_check.check(ctx, repair=args.repair, older_than=older_than, actor=ctx.settings.owner, client=CLIENT)
    if args.json:
        print_json(report.to_dict())
        return 0 if report.ok else 1
    print(f"checked {report.files} stored files ({size_text(report.bytes)})")
    for d in report.damaged:
        print(f"DAMAGED {d.dataset_id} v{d.version} {d.path}: {d.problem}" + ("" if d.new else " (known)"))
    for d in report.repaired:
        print(f"intact again: {d.dataset_id} v{d.version} {d.path}")
    for line in report.unchecked:
        print(f"not checked: {line}")
    if report.damaged:
        print("Damaged files are recorded in the audit log (file.corrupt) and no longer served. Restore the "
              "store from a backup, then run `jupyter datashare store check` again.", file=sys.stderr)  # fmt: skip
    left = report.leftovers
    counts = [(left.tmp_files, "temporary files"), (left.orphan_datasets, "folders of datasets that do not exist"),
              (left.unreferenced_files, "files no version uses"), (left.dead_pins, "pin folders of dead shares")]  # fmt: skip
    found = ", ".join(f"{n} {what}" for n, what in counts if n)
    if found:
        done = "removed" if left.removed else "run with --repair to remove them"
        print(f"leftovers of interrupted shares: {found}, {size_text(left.bytes)}: {done}")
    if left.kept_in_use:
        print(f"kept {left.kept_in_use} recent files (younger than --older-than, or written since a running share began)")
    return 0 if report.ok else 1



def add_commands(sub, command) -> None:
    """The audit and store commands, on the parser's subcommands."""
    audit = sub.add_parser("audit", help="check and export the audit log", description="The tamper-evident audit log.")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = command(asub, "verify", cmd_audit_verify, "check that no event was changed, removed or inserted",
                "Recompute the audit log's hash chain and check it against its signed checkpoints, from where "
                "the last verification ended (or the newest --checkpoint given) on. Exits 0 if intact, 1 naming "
                "the first bad event.")  # fmt: skip
    p.add_argument("--full", action="store_true",
                   help="check every event from #1 again (an event changed before the point verified last is "
                   "only seen this way)")  # fmt: skip
    p.add_argument("--checkpoint", action="append", default=[], metavar="FILE_OR_URL",
                   help="a checkpoint saved from `audit checkpoint` or from the server's public URL "
                   "datashare/checkpoint (text or JSON), as a file or at a witness's URL (repeatable); catches "
                   "even a rewrite or truncation of the whole log, re-signed or not; the newest one is a starting "
                   "point: the events up to it are taken as it vouches for them, unless --full")  # fmt: skip
    p = command(asub, "export", cmd_audit_export, "write the events (all, or those the filters select) as JSON lines or CSV")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default jsonl")
    p.add_argument("--dataset", metavar="ID", help="only this dataset's events")
    p.add_argument("--action", metavar="ACTION", help="only this action, e.g. grant.used or file.downloaded")
    p.add_argument("--since", metavar="DATE", help="from this date or ISO date-time (UTC) on")
    p.add_argument("--until", metavar="DATE", help="before this date-time; a date includes that whole day")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of the terminal")
    command(asub, "checkpoint", cmd_audit_checkpoint, "sign the log's current state and print it with the verifier key",
            "Sign the log's current state. Save the output somewhere the log's host cannot change (e-mail, a "
            "repository, a journal submission) and pass it to `audit verify --checkpoint FILE` later.")  # fmt: skip

    store = sub.add_parser("store", help="check the file store", description="The file store of shared datasets.")
    ssub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    p = command(ssub, "check", cmd_store_check, "re-read every stored file; find damaged ones and crash leftovers",
                "Re-hash every stored file (and authenticate every encrypted one) of every dataset. Damaged files "
                "are named, recorded in the audit log as file.corrupt and no longer served. Lists what interrupted "
                "shares left behind; --repair removes it, never a file a dataset or a running share uses. "
                "Exits 0 if every file is intact, 1 otherwise.")  # fmt: skip
    p.add_argument("--repair", action="store_true", help="remove the leftovers of interrupted shares")
    p.add_argument("--older-than", default="1d", metavar="AGE",
                   help="only leftovers older than this, e.g. 2h or 3d (default 1d; never under a minute)")
    p.add_argument("--json", action="store_true", help="print JSON")
