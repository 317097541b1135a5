"""``jupyter datashare``: share datasets, manage review links and check the audit log from a terminal.

A thin adapter over ``jupyter_datashare.core``: it parses arguments, calls the core with
``client="cli"`` and prints the result. User errors print ``error: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from sqlalchemy.exc import SQLAlchemyError

from . import config
from .core import citation, datasets, links, views
from .core.errors import DataShareError, InvalidInput
from .core.policy import LEVELS
from .core.settings import MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, SIGNING_KEY_FILE_ENV, default_data_dir, default_owner

CLIENT = "cli"
DEFAULT_BASE_URL = "http://localhost:8888/"
EXAMPLES = """examples:
  jupyter datashare share results/ --title "Field measurements" --creator "Ada Example|0000-0002-1825-0097|Example U"
  jupyter datashare share results/ --title "Paper data" --level embargoed --embargo-until 2027-01-31
  jupyter datashare link create ds-XXXX --label "Reviewer 1" --days 60
  jupyter datashare audit checkpoint > checkpoint.txt      (keep it somewhere safe)
  jupyter datashare audit verify --checkpoint checkpoint.txt
  jupyter datashare store check --repair                   (damaged files, crash leftovers)
  jupyter datashare link create ds-XXXX --DataShareApp.max_link_days=90
configuration: read like the Jupyter server's, from jupyter_server_config.py (.json) in the Jupyter
config path (`jupyter --paths`), so c.DataShareApp.* and c.ServerApp.root_dir apply here too;
--DataShareApp.NAME=VALUE overrides a setting, and the options below override both.
run `jupyter datashare COMMAND --help` for the options of each command."""
# A signed checkpoint note as `audit checkpoint` prints it (several may be saved in one file).
NOTE = re.compile(r"^[^\s\n][^\n]*\n\d+\n[A-Za-z0-9+/]+=*\n[^\n]*\n\n(?:\u2014 [^\n]+(?:\n|$))+", re.M)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _url(args, *parts: str) -> str:
    return args.base_url.rstrip("/") + "/datashare/" + "/".join(parts)


def _abs(path: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(path)) if path else None


def _context(args):
    from .core.service import DataShare

    # The server's configuration, then --DataShareApp.* arguments, then our own flags.
    options = config.load(args.config_args, data_dir=_abs(args.data_dir), db_url=args.db_url or None,
                          owner=args.owner or None, master_key_file=_abs(args.master_key_file),
                          signing_key_file=_abs(args.signing_key_file))  # fmt: skip
    root = _abs(args.root_dir) or config.server_root_dir(options) or os.getcwd()
    if not os.path.isdir(root):
        raise InvalidInput("--root-dir" if args.root_dir else "ServerApp.root_dir", f"'{root}' is not a folder")
    settings = options.core_settings(root)
    # Printed links look like the server's own: its public_base_url and base path, if configured.
    args.base_url = args.base_url or config.public_url(options) or DEFAULT_BASE_URL
    try:
        return DataShare(settings, options.clock)
    except SQLAlchemyError as exc:  # a bad --db-url, an unreachable server, a damaged file
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InvalidInput("--db-url", f"cannot open the database: {reason}") from None
    except ImportError as exc:
        raise InvalidInput("--db-url", f"its database driver is not installed ({exc})") from None


def _relative_to_root(path: str, root: str) -> str:
    """An absolute path inside the root becomes relative; anything else goes to the core as given."""
    if not os.path.isabs(path):
        return path
    full = os.path.abspath(path)
    for base in (os.path.abspath(root), os.path.realpath(root)):
        if full == base or full.startswith(base.rstrip(os.sep) + os.sep):
            return os.path.relpath(full, base)
    return path


def _creator(text: str) -> dict:
    name, orcid, affiliation = (text.split("|", 2) + ["", ""])[:3]
    return {k: v.strip() for k, v in (("name", name), ("orcid", orcid), ("affiliation", affiliation)) if v.strip()}


def _access_line(a: dict) -> str:
    line = a["level"] + (f" until {a['embargo_until']}, then {a['after_embargo']}" if a["embargo_until"] else "")
    return line + (f" (now {a['level_in_force']})" if a["level_in_force"] != a["level"] else "")


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# -- commands ----------------------------------------------------------------------------------


def cmd_list(ctx, args) -> None:
    now = ctx.now()
    found = [views.summary(d, now) for d in datasets.list_owned(ctx, ctx.settings.owner, args.all)]
    if args.json or not found:
        return _print_json({"datasets": found}) if args.json else print("no datasets yet: see `jupyter datashare share -h`")
    print(f"{'ID':<16} {'LEVEL':<14} {'VER':>3} {'FILES':>5} {'SIZE':>10}  TITLE")
    for d in found:
        level = "withdrawn" if d["withdrawn"] else d["access"]["level_in_force"]
        print(f"{d['id']:<16} {level:<14} {d['version']:>3} {d['file_count']:>5} {_size(d['total_size']):>10}  {d['title']}")


def cmd_show(ctx, args) -> None:
    out = datasets.describe_for_owner(ctx, ctx.settings.owner, args.id, args.version)
    out["landing_page"] = _url(args, "d", out["id"])
    if args.json:
        return _print_json(out)
    print(f"{out['id']}  {out['title']}" + ("  [WITHDRAWN]" if out["withdrawn"] else ""))
    print(f"  landing page: {out['landing_page']}")
    print(f"  source:       {out['source_path']} (owner {out['owner']})")
    print(f"  access:       {_access_line(out['access'])}")
    lic = out["license"]
    print(f"  licence:      {lic['id']}" + (f" ({lic['name']})" if lic.get("name") != lic["id"] else ""))
    for c in out["creators"]:
        extra = "; ".join(x for x in (c.get("orcid"), c.get("affiliation")) if x)
        print(f"  creator:      {c['name']}" + (f" ({extra})" if extra else ""))
    if out["keywords"]:
        print(f"  keywords:     {', '.join(out['keywords'])}")
    if out["related_publication"]:
        print(f"  publication:  {out['related_publication']}")
    if out["withdrawn_at"]:
        print(f"  withdrawn:    {out['withdrawn_at']}" + (f" ({out['withdrawal_reason']})" if out["withdrawal_reason"] else ""))
    if out["description"]:
        print("  description:  " + out["description"].replace("\n", "\n                "))
    print("  versions:")
    for x in out["versions"]:
        print(f"    {x['number']:>3}  {x['created_at']}  {x['file_count']} files, {_size(x['total_size'])}")
    print(f"  files of version {out['version']}:")
    for f in out["files"]:
        print(f"    {_size(f['size']):>10}  {f['sha256']}  {f['path']}")


def cmd_share(ctx, args) -> None:
    body = {"path": _relative_to_root(args.path, ctx.settings.root_dir), "title": args.title,
            "description": args.description, "creators": [_creator(c) for c in args.creator],
            "keywords": args.keyword, "license": args.license, "license_text": args.license_text,
            "related_publication": args.publication, "include_hidden": args.include_hidden,
            "access": {"level": args.level, "embargo_until": args.embargo_until, "after_embargo": args.after_embargo}}  # fmt: skip
    if args.member or args.external_member:
        members = [{"username": u} for u in args.member] + [_external(m) for m in args.external_member]
        body["committee"] = {"members": members, "required_approvals": args.required_approvals, "rule": args.rule}
    if args.use_condition:
        body["use_conditions"] = args.use_condition
    if args.agreement_file:
        with open(args.agreement_file, encoding="utf-8") as f:
            body["agreement"] = f.read()
    body = {k: v for k, v in body.items() if v is not None}
    made: list = []
    dataset_id = datasets.share(ctx, ctx.settings.owner, body, client=CLIENT, committee_links=made)
    ds = datasets.load(ctx, dataset_id)
    print(f"shared {dataset_id}: {ds.title} ({args.level}, version 1, {ds.versions[-1].file_count} files)")
    print(f"landing page: {_url(args, 'd', dataset_id)}")
    for member, secret in made:
        if secret:
            print(f"committee link for {member.name} <{member.email}>: {_url(args, 'c', secret)}")
    if any(secret for _, secret in made):
        print("Committee links are shown only once: send each to its member now.", file=sys.stderr)


def _external(text: str) -> dict:
    name, sep, email = text.rpartition("|")
    if not sep or not name.strip():
        raise InvalidInput("--external-member", f"'{text}' is not 'Name|email'")
    return {"name": name.strip(), "email": email.strip()}


def cmd_version(ctx, args) -> None:
    number = datasets.new_version(ctx, ctx.settings.owner, args.id, client=CLIENT)
    v, _ = datasets.version_files(ctx, args.id, number)
    print(f"published version {number} of {args.id}: {v.file_count} files, {_size(v.total_size)}")


def cmd_cite(ctx, args) -> None:
    ds = datasets.load_owned(ctx, ctx.settings.owner, args.id)
    v, files = datasets.version_files(ctx, ds.id, ds.latest_version)
    out = citation.everything(ds, v, files, _url(args, "d", ds.id), args.publisher or ctx.settings.publisher, ctx.now())
    if args.format == "datacite":
        return _print_json(out["datacite"])
    key = {"bibtex": "bibtex", "text": "text", "availability": "availability_statement", "rights": "rights_statement"}
    print(out[key[args.format]].rstrip("\n"))


def cmd_withdraw(ctx, args) -> None:
    datasets.withdraw(ctx, ctx.settings.owner, args.id, args.reason, client=CLIENT)
    print(f"withdrew {args.id}: its files are no longer served and its review links are revoked")


def cmd_link_create(ctx, args) -> None:
    body = {"label": args.label, "expires_in_days": args.days, "anonymous": args.anonymous,
            "allow_restricted": args.allow_restricted, "version": args.version}  # fmt: skip
    row, secret = links.create(ctx, ctx.settings.owner, args.id, {k: v for k, v in body.items() if v is not None},
                               client=CLIENT)  # fmt: skip
    print(_url(args, "r", secret))
    print(f"link {row.id} to version {row.version_number} of {args.id}, expires {views.link(row, ctx.now())['expires_at']}"
          + (", anonymous" if row.anonymous else ""))  # fmt: skip
    print("This URL is shown only once: copy it now. Anyone who has it can open the dataset.", file=sys.stderr)


def cmd_link_list(ctx, args) -> None:
    now = ctx.now()
    found = [views.link(r, now) for r in links.list_for(ctx, ctx.settings.owner, args.id)]
    if args.json:
        return _print_json({"links": found})
    if not found:
        print(f"no review links for {args.id}")
    for x in found:
        flags = "".join(f", {f}" for f in ("anonymous", "allow_restricted") if x[f])
        print(f"{x['id']:<16} {x['state']:<8} v{x['version']} expires {x['expires_at']} uses {x['use_count']}{flags}"
              f"  {x['label']}")  # fmt: skip


def cmd_link_revoke(ctx, args) -> None:
    row = links.revoke(ctx, ctx.settings.owner, args.link_id, client=CLIENT)
    print(f"revoked {row.id}" + (f" ({row.label})" if row.label else "") + f" of {row.dataset_id}")


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
    report = ctx.audit.verify(trusted_notes=_read_notes(args.checkpoint))
    if report.ok:
        print(f"ok: {report.events} events, {report.checkpoints} checkpoints")
        return 0
    print(f"audit log damaged: {report.problem}", file=sys.stderr)
    return 1


def cmd_audit_export(ctx, args) -> None:
    from .core.audit import end_of
    from .core.clock import parse_when

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
    from .core import store_check

    older_than = _duration("--older-than", args.older_than)
    report = store_check.check(ctx, repair=args.repair, older_than=older_than, actor=ctx.settings.owner, client=CLIENT)
    if args.json:
        _print_json(report.to_dict())
        return 0 if report.ok else 1
    print(f"checked {report.files} stored files ({_size(report.bytes)})")
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
        print(f"leftovers of interrupted shares: {found}, {_size(left.bytes)}: {done}")
    if left.kept_in_use:
        print(f"kept {left.kept_in_use} recent files (younger than --older-than, or written since a running share began)")
    return 0 if report.ok else 1


def cmd_demo(ctx, args) -> None:
    from . import demo

    made = demo.run(ctx, ctx.settings.owner)
    print(f"demo under {ctx.settings.root_dir} (data in {ctx.settings.data_dir}, owner {ctx.settings.owner})")
    for d in made:
        state = "created" if d["created"] else "already there"
        print(f"{d['id']}  {d['level']:<13} {d['path']:<22} {state}: {d['title']}")
        print(f"    landing page: {_url(args, 'd', d['id'])}")
        for link in d["links"]:
            print(f"    review link '{link['label']}' (expires {link['expires_at']}): {_url(args, 'r', link['secret'])}")
        if d.get("pending_request"):
            print(f"    access request {d['pending_request']} is waiting for the committee")
        for member in d.get("committee_links", []):
            print(f"    committee link for {member['name']}: {_url(args, 'c', member['secret'])}")
    if not all(d["created"] for d in made):
        print("Links are shown only when made; add some with `jupyter datashare link create ID`.")
    plain = config.load()  # what `jupyter lab` reads from the config files
    conf = [f"--DataShareApp.{k}={v}" for k, v, default in (("data_dir", ctx.settings.data_dir, _abs(plain.data_dir)),
            ("owner", ctx.settings.owner, plain.owner)) if v != default]  # fmt: skip
    print(" ".join(["See them in Jupyter: jupyter lab", f"--ServerApp.root_dir={ctx.settings.root_dir}", *conf]))


# -- arguments ---------------------------------------------------------------------------------


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
                                    f"c.DataShareApp.public_base_url with c.ServerApp.base_url, else {DEFAULT_BASE_URL})"),
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

    p = command(sub, "list", cmd_list, "list your datasets")
    p.add_argument("--all", action="store_true", help="include withdrawn datasets")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(sub, "show", cmd_show, "show a dataset's metadata, access, versions and files (with SHA-256)")
    p.add_argument("id", metavar="ID", help="dataset id, as printed by `share` or `list`")
    p.add_argument("--version", type=int, metavar="N", help="list the files of version N (default: the latest)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(sub, "share", cmd_share, "freeze a file or folder as a new dataset",
                "Freeze a file or folder as a new dataset: its files are copied and checksummed now, so later "
                "edits do not change what was shared. Prints the dataset id and its landing page.")  # fmt: skip
    p.add_argument("path", metavar="PATH", help="file or folder, relative to --root-dir")
    p.add_argument("--title", required=True, help="title of the dataset (required)")
    p.add_argument("--description", help="what the data is and how it was made")
    p.add_argument("--creator", action="append", default=[], metavar="'NAME|ORCID|AFFILIATION'",
                   help="a creator, e.g. 'Ada Example|0000-0002-1825-0097|Example University'; repeat for several")  # fmt: skip
    p.add_argument("--keyword", action="append", default=[], metavar="K", help="a keyword; repeat for several")
    p.add_argument("--license", metavar="SPDX", help="CC0-1.0, CC-BY-4.0 (default), CC-BY-NC-4.0 or CC-BY-NC-ND-4.0; "
                   "another SPDX id needs --license-text")  # fmt: skip
    p.add_argument("--license-text", metavar="TEXT", help="full text of a licence not in the list above")
    p.add_argument("--publication", metavar="DOI_OR_URL", help="DOI or URL of the related paper")
    p.add_argument("--level", choices=LEVELS, default="open",
                   help="who may get the files: open (anyone, the default), embargoed (nobody until a date), "
                   "reviewer-only (only review-link holders see anything, even the description) or restricted "
                   "(only people granted access)")  # fmt: skip
    p.add_argument("--embargo-until", metavar="DATE", help="for --level embargoed: date the files open, e.g. 2027-01-31")
    p.add_argument("--after-embargo", choices=("open", "restricted", "reviewer-only"), metavar="LEVEL",
                   help="for --level embargoed: the level from that date on (default open)")  # fmt: skip
    p.add_argument("--include-hidden", action="store_true", help="also share hidden files (names starting with '.')")
    c = p.add_argument_group("restricted data: the data access committee and the conditions of use")
    c.add_argument("--member", action="append", default=[], metavar="USERNAME",
                   help="a committee member with a Jupyter identity; repeat for several")
    c.add_argument("--external-member", action="append", default=[], metavar="'NAME|EMAIL'",
                   help="a committee member reached by a personal link (printed once); repeat for several")
    c.add_argument("--required-approvals", type=int, default=1, metavar="N",
                   help="approvals needed from members who are not the owner (default 1)")
    c.add_argument("--rule", choices=("veto", "majority"), default="veto",
                   help="veto (default): one denial closes a request; majority: most members decide")
    c.add_argument("--use-condition", action="append", default=[], metavar="DUO",
                   help="a GA4GH DUO code, e.g. HMB, DS:MONDO:0005148, NPU, IRB; repeat for several")
    c.add_argument("--agreement-file", metavar="FILE", help="text file with the data use agreement requesters accept")

    p = command(sub, "version", cmd_version, "freeze the dataset's file or folder again, as its next version")
    p.add_argument("id", metavar="ID", help="dataset id")

    p = command(sub, "cite", cmd_cite, "how to cite a dataset, and the statements a manuscript needs")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--format", choices=("text", "bibtex", "datacite", "availability", "rights"), default="text",
                   help="text citation (default), BibTeX, DataCite 4.5 JSON, data availability or data rights statement")
    p.add_argument("--publisher", help="publisher named in the citation (default: jupyter-datashare)")

    p = command(sub, "withdraw", cmd_withdraw, "withdraw a dataset: its files stop being served, its links are revoked")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--reason", default="", help="why (kept with the dataset and in the audit log)")

    link = sub.add_parser("link", help="private review links", description="Private review links for reviewers.")
    lsub = link.add_subparsers(dest="link_command", metavar="ACTION", required=True)
    p = command(lsub, "create", cmd_link_create, "make a review link; its URL is printed once")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--label", help="who it is for, e.g. 'Reviewer 1'")
    p.add_argument("--days", type=int, metavar="N", help="days until it expires (default 30)")
    p.add_argument("--anonymous", action="store_true", help="hide the authors' identity from the link's holder")
    p.add_argument("--allow-restricted", action="store_true", help="let the link open a restricted dataset's files")
    p.add_argument("--version", type=int, metavar="N", help="bind the link to version N (default: the latest)")
    p = command(lsub, "list", cmd_link_list, "list a dataset's review links (their URLs cannot be shown again)")
    p.add_argument("id", metavar="ID", help="dataset id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(lsub, "revoke", cmd_link_revoke, "revoke a review link at once")
    p.add_argument("link_id", metavar="LINK_ID", help="link id, as printed by `link create` or `link list`")

    audit = sub.add_parser("audit", help="check and export the audit log", description="The tamper-evident audit log.")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = command(asub, "verify", cmd_audit_verify, "check that no event was changed, removed or inserted",
                "Recompute the audit log's hash chain and check it against its signed checkpoints. "
                "Exits 0 if intact, 1 naming the first bad event.")  # fmt: skip
    p.add_argument("--checkpoint", action="append", default=[], metavar="FILE_OR_URL",
                   help="a checkpoint saved from `audit checkpoint` or from the server's public URL "
                   "datashare/checkpoint (text or JSON), as a file or at a witness's URL (repeatable); catches "
                   "even a rewrite or truncation of the whole log, re-signed or not")  # fmt: skip
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

    p = command(sub, "demo", cmd_demo, "make a demo folder with one dataset of each access level",
                "Write a few small made-up files under DIR and share one dataset of each access level "
                "from them, with review links. Running it again adds nothing.")  # fmt: skip
    p.add_argument("dir", metavar="DIR", help="folder for the demo; start Jupyter with it as its root")
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


if __name__ == "__main__":
    sys.exit(main())
