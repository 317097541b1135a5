"""The public checkpoint (datashare/checkpoint) and the signing key kept away from the data.

The attacker here can rewrite the database (and, in the default layout, read the signing key next
to it); the defences are copies of the public checkpoint kept by others, and a key file elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select

from jupyter_datashare import cli
from jupyter_datashare.core import signing
from jupyter_datashare.core.audit import GENESIS, AuditLog, chain
from jupyter_datashare.core.db import make_engine, writing
from jupyter_datashare.core.models import AuditCheckpoint, AuditEvent, AuditHead, AuditVerified


def rewrite_log(db_url: str, key: Ed25519PrivateKey) -> None:
    """Change event #1, recompute the whole chain and replace the checkpoints with one signed by ``key``."""
    engine = make_engine(db_url)
    try:
        with writing(engine) as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            events[0].actor = "mallory"
            prev = GENESIS
            for e in events:
                e.entry_hash = prev = chain(prev, AuditLog._as_dict(e))
            head = s.get(AuditHead, 1)
            head.head_hash, head.checkpointed_size = prev, head.size
            s.execute(delete(AuditCheckpoint))
            s.execute(delete(AuditVerified))  # the marks of earlier checks would betray the new key
            cp = signing.Checkpoint(signing.origin_for(key), len(events), prev, "2026-03-01T12:00:00.000000Z")
            s.add(AuditCheckpoint(size=cp.size, head_hash=prev, created_at=cp.time, note=signing.sign_checkpoint(key, cp)))
    finally:
        engine.dispose()


def verify(ctx, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--root-dir", ctx.settings.root_dir, "--data-dir", ctx.settings.data_dir, "audit", "verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_newest_checkpoint_is_public_as_a_signed_note_and_as_json(call, share, ctx):
    r = await call("GET", "datashare", "checkpoint", anon=True)
    assert r.code == 404  # nothing signed yet
    await share()
    signed = await call.json("POST", "datashare", "api", "audit", "checkpoint")

    r = await call("GET", "datashare", "checkpoint", anon=True)
    assert r.code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert r.body.decode() == signed["checkpoint"]
    r = await call("GET", "datashare", "checkpoint", anon=True, headers={"Accept": "application/json"})
    body = json.loads(r.body)
    assert body["checkpoint"] == signed["checkpoint"] and body["verifier_key"] == signed["verifier_key"]
    assert body["size"] == len(ctx.audit.events())
    # A witness needs only what is public to check it: the note and the verifier key.
    _, _, encoded = body["verifier_key"].split("+", 2)
    public_key = base64.b64decode(encoded)[1:]
    assert signing.open_checkpoint(body["checkpoint"], public_key).head_hash == body["head_hash"]

    # An anonymous GET signs nothing: the log is unchanged by it.
    events = len(ctx.audit.events())
    await call("GET", "datashare", "checkpoint", anon=True)
    assert len(ctx.audit.events()) == events


@pytest.mark.parametrize("accept", ["text/plain", "application/json"])
async def test_a_saved_public_checkpoint_catches_a_rewrite_re_signed_with_a_new_key(accept, call, share, ctx, tmp_path,
                                                                                    capsys):  # fmt: skip
    await share()
    await call.json("POST", "datashare", "api", "audit", "checkpoint")
    r = await call("GET", "datashare", "checkpoint", anon=True, headers={"Accept": accept})
    witness = tmp_path / "witness.txt"
    witness.write_bytes(r.body)  # what a journal keeps
    await share(path="data/table.csv", title="Only the table")  # the log grows after the copy was taken
    code, out, _ = verify(ctx, capsys, "--checkpoint", str(witness))
    assert code == 0 and out.startswith(f"ok: {len(ctx.audit.events())} events")

    # With the key next to the database, the attacker makes a new one and re-signs the rewrite...
    new_key = Ed25519PrivateKey.generate()
    Path(ctx.settings.signing_key_path).write_bytes(new_key.private_bytes_raw())
    rewrite_log(ctx.settings.db_url, new_key)
    assert verify(ctx, capsys)[:2] == (0, f"ok: {len(ctx.audit.events())} events, 1 checkpoints\n")  # self-consistent
    # ...which the saved copy exposes.
    code, out, err = verify(ctx, capsys, "--checkpoint", str(witness))
    assert (code, out) == (1, "") and "a trusted checkpoint does not verify" in err


@pytest.fixture
def signing_key_file(tmp_path, ds_config):
    path = tmp_path / "secrets" / "audit-signing.key"  # another volume, a mounted secret
    ds_config["signing_key_file"] = str(path)
    return path


async def test_a_signing_key_kept_away_from_the_data_cannot_re_sign_a_rewrite(signing_key_file, call, share, ctx,
                                                                              capsys):  # fmt: skip
    await share()
    await call.json("POST", "datashare", "api", "audit", "checkpoint")
    assert stat.S_IMODE(signing_key_file.stat().st_mode) == 0o600
    assert not (Path(ctx.settings.data_dir) / signing.KEY_FILE).exists()
    r = await call("GET", "datashare", "checkpoint", anon=True)
    public_key = signing.public_bytes(Ed25519PrivateKey.from_private_bytes(signing_key_file.read_bytes()))
    signing.open_checkpoint(r.body.decode(), public_key)  # signed with that file's key

    # The attacker has the data dir only, so re-signs with a key of their own: it shows.
    rewrite_log(ctx.settings.db_url, Ed25519PrivateKey.generate())
    code, _, err = verify(ctx, capsys, "--signing-key-file", str(signing_key_file))
    assert code == 1 and "is not validly signed" in err
    report = await call.json("GET", "datashare", "api", "audit", "verify")
    assert report["ok"] is False and "is not validly signed" in report["problem"]


async def test_audit_verify_takes_a_witness_url(call, share, ctx, jp_base_url, jp_http_port, capsys):
    await share()
    await call.json("POST", "datashare", "api", "audit", "checkpoint")
    url = f"http://localhost:{jp_http_port}{jp_base_url}datashare/checkpoint"
    loop = asyncio.get_running_loop()  # the server answers on this loop: the CLI runs beside it
    code = await loop.run_in_executor(None, cli.main, ["--root-dir", ctx.settings.root_dir, "--data-dir",
                                                       ctx.settings.data_dir, "audit", "verify", "--checkpoint", url])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "") and out.startswith("ok: ")
    code = await loop.run_in_executor(None, cli.main, ["--root-dir", ctx.settings.root_dir, "--data-dir",
                                                       ctx.settings.data_dir, "audit", "verify", "--checkpoint",
                                                       "http://127.0.0.1:1/checkpoint"])  # nobody listens
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: --checkpoint: cannot fetch http://127.0.0.1:1/checkpoint: ")
