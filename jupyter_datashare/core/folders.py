"""Which folders a share reads: the owner's (the server's root, or in the standalone service the
owner's own folder in it), and what is never shared wherever a path or a link leads (the data dir,
the store, the keys, the database)."""

from __future__ import annotations

import os

from .errors import InvalidInput


def forbidden_paths(ctx) -> tuple[str, ...]:
    """What may never be shared, however a link leads there: the data dir, the store, the keys, the database."""
    s = ctx.settings
    signing_key = getattr(s, "signing_key_path", None) or getattr(s, "signing_key_file", "") or \
        os.path.join(s.data_dir, "audit-signing.key")  # fmt: skip
    out = [s.data_dir, s.store_dir, str(ctx.keyring.path), signing_key]
    url = ctx.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = os.path.abspath(url.database)
        out += [db, db + "-wal", db + "-shm", db + "-journal"]  # SQLite's files beside it
    return tuple(out)


def share_root(ctx, owner: str, *, create: bool = False) -> str:
    """The folder ``owner`` shares from: the root, or with many_owners their own folder in it
    (made on their first upload: ``create``)."""
    root = ctx.settings.root_dir
    if not ctx.settings.many_owners:
        return root
    if not owner or owner in (".", "..") or any(c in owner for c in "/\\\x00"):
        raise InvalidInput("owner", "cannot have a folder of their own")
    own = os.path.join(root, owner)
    if create and not os.path.lexists(own):
        os.makedirs(own, mode=0o700, exist_ok=True)
    if not os.path.isdir(own) or os.path.islink(own):
        raise InvalidInput("path", f"there is no folder '{owner}/' in the service's root: {owner}'s files are shared from there")
    return own
