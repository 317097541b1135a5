"""``jupyter datashare serve``: the standalone service, and its administration — personal API tokens.

Whoever runs these holds the service's database credentials, so is its administrator: the audit
log records them as ``admin:<login name>``.
"""

from __future__ import annotations

import getpass

from ..core import api_tokens
from ..core.errors import InvalidInput
from .output import CLIENT, print_json


def _admin() -> str:
    return f"admin:{getpass.getuser()}"


def cmd_token_create(ctx, args) -> int:
    row, secret = api_tokens.issue(ctx, _admin(), args.username, label=args.label or "", days=args.days, client=CLIENT)
    if args.json:
        print_json(row | {"token": secret})
        return 0
    print(f"API token {row['id']} for {row['username']}" + (f", expires {row['expires_at']}" if row["expires_at"] else ""))
    print(secret)
    print("Give it to its user now: it is shown only this once (only its hash is kept). "
          f"Revoke it with `jupyter datashare serve token revoke {row['id']}`.")  # fmt: skip
    return 0


def cmd_token_list(ctx, args) -> int:
    rows = api_tokens.listing(ctx, args.username)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no API tokens" + (f" for {args.username}" if args.username else ""))
    for r in rows:
        used = f"last used {r['last_used_at']}" if r["last_used_at"] else "never used"
        label = f" ({r['label']})" if r["label"] else ""
        print(f"{r['id']}  {r['username']}{label}  {r['state']}  created {r['created_at']}  {used}")
    return 0


def cmd_token_revoke(ctx, args) -> int:
    row = api_tokens.revoke(ctx, _admin(), args.token_id, client=CLIENT)
    print(f"API token {row['id']} of {row['username']} is revoked: it no longer opens anything")
    return 0


def cmd_push_local(ctx, args) -> int:
    from .. import config
    from ..client import moving_in

    service = config.service_of(args.options)
    if service is None:
        raise InvalidInput("DataShareApp.service_url", "names the service to move into (with service_token_file): "
                           "push-local moves this machine's store there")  # fmt: skip
    done = moving_in.push(ctx, service, actor=ctx.settings.owner, client=CLIENT)
    if args.json:
        print_json(done)
        return 0
    print(f"moved {len(done['datasets'])} datasets ({done['versions']} versions, {done['files']} files, "
          f"{done['links']} review links, {done['requests']} access requests, {done['grants']} grants) "
          f"into {service.url} as moved store {done['moved_store']}")  # fmt: skip
    print(f"the old audit log ({done['old_audit']['events']} events, head {done['old_audit']['head_hash']}) is kept "
          "there and verifies; links already sent work at the service's address (replace this server's address "
          "with the service's). This machine's store is unchanged: stop serving it once you have checked the service.")  # fmt: skip
    return 0


def cmd_serve(ctx, args) -> int:
    from ..service.app import serve

    if args.hub:  # where to listen and under which prefix: as the hub says
        from ..service import hub

        ip, port, base_url = hub.address()
        return serve(args.options, ctx, ip=ip, port=port, base_url=base_url, hub=hub.HubCallers())
    return serve(args.options, ctx, ip=args.ip, port=args.port, base_url=args.service_base_url)


def add_commands(sub, command) -> None:
    serve = command(sub, "serve", cmd_serve, "run the standalone datashare service (or administer it: serve token ...)",
                    "Serve every public page, download and the owner and committee API at this address, always on "
                    "and without any Jupyter server: review links, request forms, grants and committee pages keep "
                    "working whoever's notebook server stops. Callers of the API send a personal API token "
                    "(`serve token create USER`); what they share is theirs. Stop it with Ctrl-C or SIGTERM.")  # fmt: skip
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)")
    serve.add_argument("--service-base-url", default="/", metavar="PATH",
                       help="path the service's routes live under, e.g. /services/datashare/ (default /); links "
                       "use c.DataShareApp.public_base_url when set")  # fmt: skip
    serve.add_argument("--hub", action="store_true",
                       help="run as a JupyterHub service (from c.JupyterHub.services): callers are hub users, known "
                       "by their hub token or a hub login; address and prefix come from the hub")  # fmt: skip
    p = command(sub, "push-local", cmd_push_local, "move this machine's store into the service (service_url)",
                "Move every dataset of this machine's store, with its versions, files, committee, review links, "
                "access requests, decisions and grants, into the service of c.DataShareApp.service_url, as yours. "
                "Secrets already sent keep working at the service's address; the old audit log is kept there and "
                "verifies. All or nothing; this machine's store is left as it was.")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the service's account of the move as JSON")
    ssub = serve.add_subparsers(dest="serve_command", metavar="ACTION")
    token = ssub.add_parser("token", help="personal API tokens", description="Personal API tokens of the service's users.")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    p = command(tsub, "create", cmd_token_create, "issue a personal API token for USER; it is printed once",
                "Issue a 256-bit API token that acts for USER (and nobody else). Only its hash is kept: "
                "give it to its user now.")  # fmt: skip
    p.add_argument("username", metavar="USER", help="the user the token acts for")
    p.add_argument("--label", help="what it is for, e.g. 'laptop' or 'lab JupyterHub'")
    p.add_argument("--days", type=int, metavar="N", help=f"days until it expires (default: never; at most {api_tokens.MAX_DAYS})")
    p.add_argument("--json", action="store_true", help="print JSON (with the token)")
    p = command(tsub, "list", cmd_token_list, "list API tokens (their secrets cannot be shown again)")
    p.add_argument("--user", dest="username", metavar="USER", help="only this user's tokens")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(tsub, "revoke", cmd_token_revoke, "revoke an API token at once")
    p.add_argument("token_id", metavar="TOKEN_ID", help="token id (tok-...), as printed by `serve token create` or `list`")
