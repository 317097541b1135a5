"""Commands on datasets and their review links: list, show, share, version, cite, withdraw,
link create / list / revoke, and the demo."""

from __future__ import annotations

import os
import sys

from .. import config
from ..core.errors import InvalidInput
from ..core.policy import LEVELS
from .output import absolute, datashare_url, print_json, size_text


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


def _landing_line(page: str, level: str) -> str:
    # A reviewer-only dataset has no public page (its d/ address is a 404 like an unknown id).
    if level == "reviewer-only":
        return "landing page: none in public; reviewers see it through a review link (`link create`)"
    return f"landing page: {page}"


# The commands below work on the interface (backends/): the local store, or a service in client mode.


def cmd_list(backend, args) -> None:
    # Every page of the list (newest first), unless --limit says how many.
    found = backend.datasets(args.all, q=args.search, level=args.level, limit=args.limit)
    if args.json or not found:
        return print_json({"datasets": found}) if args.json else print("no datasets yet: see `jupyter datashare share -h`")
    print(f"{'ID':<16} {'LEVEL':<14} {'VER':>3} {'FILES':>5} {'SIZE':>10}  TITLE")
    for d in found:
        level = "withdrawn" if d["withdrawn"] else d["access"]["level_in_force"]
        print(f"{d['id']:<16} {level:<14} {d['version']:>3} {d['file_count']:>5} {size_text(d['total_size']):>10}  {d['title']}")


def cmd_show(backend, args) -> None:
    out = backend.dataset(args.id, args.version)
    if args.json:
        return print_json(out)
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
        print(f"    {x['number']:>3}  {x['created_at']}  {x['file_count']} files, {size_text(x['total_size'])}")
    print(f"  files of version {out['version']}:")
    for f in out["files"]:
        print(f"    {size_text(f['size']):>10}  {f['sha256']}  {f['path']}")


def cmd_share(backend, args) -> None:
    body = {"path": _relative_to_root(args.path, backend.root_dir), "title": args.title,
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
    out = backend.share(body)
    print(f"shared {out['id']}: {out['title']} ({args.level}, version 1, {out['file_count']} files)")
    print(_landing_line(out["landing_page"], args.level))
    for member in out["committee_links"]:
        print(f"committee link for {member['name']} <{member['email']}>: {member['url']}")
    if out["committee_links"]:
        print("Committee links are shown only once: send each to its member now.", file=sys.stderr)


def _external(text: str) -> dict:
    name, sep, email = text.rpartition("|")
    if not sep or not name.strip():
        raise InvalidInput("--external-member", f"'{text}' is not 'Name|email'")
    return {"name": name.strip(), "email": email.strip()}


def cmd_version(backend, args) -> None:
    out = backend.new_version(args.id)
    print(f"published version {out['version']} of {args.id}: {out['file_count']} files, {size_text(out['total_size'])}")


def cmd_cite(backend, args) -> None:
    out = backend.citation(args.id, args.publisher)
    if args.format == "datacite":
        return print_json(out["datacite"])
    key = {"bibtex": "bibtex", "text": "text", "availability": "availability_statement", "rights": "rights_statement"}
    print(out[key[args.format]].rstrip("\n"))


def cmd_withdraw(backend, args) -> None:
    backend.withdraw(args.id, args.reason)
    print(f"withdrew {args.id}: its files are no longer served and its review links are revoked")


def cmd_link_create(backend, args) -> None:
    body = {"label": args.label, "expires_in_days": args.days, "anonymous": args.anonymous,
            "allow_restricted": args.allow_restricted, "version": args.version}  # fmt: skip
    out = backend.create_link(args.id, {k: v for k, v in body.items() if v is not None})
    print(out["url"])
    print(f"link {out['id']} to version {out['version']} of {args.id}, expires {out['expires_at']}"
          + (", anonymous" if out["anonymous"] else ""))  # fmt: skip
    print("This URL is shown only once: copy it now. Anyone who has it can open the dataset.", file=sys.stderr)


def cmd_link_list(backend, args) -> None:
    found = backend.links(args.id)
    if args.json:
        return print_json({"links": found})
    if not found:
        print(f"no review links for {args.id}")
    for x in found:
        flags = "".join(f", {f}" for f in ("anonymous", "allow_restricted") if x[f])
        print(f"{x['id']:<16} {x['state']:<8} v{x['version']} expires {x['expires_at']} uses {x['use_count']}{flags}"
              f"  {x['label']}")  # fmt: skip


def cmd_link_revoke(backend, args) -> None:
    out = backend.revoke_link(args.link_id)
    print(f"revoked {out['id']}" + (f" ({out['label']})" if out["label"] else "") + f" of {out['dataset_id']}")


def cmd_demo(ctx, args) -> None:
    from .. import demo

    made = demo.run(ctx, ctx.settings.owner)
    print(f"demo under {ctx.settings.root_dir} (data in {ctx.settings.data_dir}, owner {ctx.settings.owner})")
    for d in made:
        state = "created" if d["created"] else "already there"
        print(f"{d['id']}  {d['level']:<13} {d['path']:<22} {state}: {d['title']}")
        print("    " + _landing_line(datashare_url(args, "d", d["id"]), d["level"]))
        for link in d["links"]:
            print(f"    review link '{link['label']}' (expires {link['expires_at']}): {datashare_url(args, 'r', link['secret'])}")
        if d.get("pending_request"):
            print(f"    access request {d['pending_request']} is waiting for the committee")
        for member in d.get("committee_links", []):
            print(f"    committee link for {member['name']}: {datashare_url(args, 'c', member['secret'])}")
    if not all(d["created"] for d in made):
        print("Links are shown only when made; add some with `jupyter datashare link create ID`.")
    plain = config.load()  # what `jupyter lab` reads from the config files
    conf = [f"--DataShareApp.{k}={v}" for k, v, default in (("data_dir", ctx.settings.data_dir, absolute(plain.data_dir)),
            ("owner", ctx.settings.owner, plain.owner)) if v != default]  # fmt: skip
    print(" ".join(["See them in Jupyter: jupyter lab", f"--ServerApp.root_dir={ctx.settings.root_dir}", *conf]))



# Commands that take the interface (local store or service) instead of the local core itself.
ON_BACKEND = frozenset({cmd_list, cmd_show, cmd_share, cmd_version, cmd_cite, cmd_withdraw, cmd_link_create,
                        cmd_link_list, cmd_link_revoke})  # fmt: skip


def add_commands(sub, command) -> None:
    """The dataset and link commands, on the parser's subcommands."""
    p = command(sub, "list", cmd_list, "list your datasets, newest first")
    p.add_argument("--all", action="store_true", help="include withdrawn datasets")
    p.add_argument("--search", metavar="TEXT", help="only datasets whose title contains TEXT (any case)")
    p.add_argument("--level", choices=LEVELS, help="only datasets of this access level")
    p.add_argument("--limit", type=int, metavar="N", help="at most the N newest (default: all of them)")
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


def add_demo(sub, command) -> None:
    p = command(sub, "demo", cmd_demo, "make a demo folder with one dataset of each access level",
                "Write a few small made-up files under DIR and share one dataset of each access level "
                "from them, with review links. Running it again adds nothing.")  # fmt: skip
    p.add_argument("dir", metavar="DIR", help="folder for the demo; start Jupyter with it as its root")
