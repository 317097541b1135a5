"""Encrypted datasets over HTTP: the same bytes, ranges and ETags as plain ones; damage never
reaches a client as wrong bytes; level changes and withdrawal."""

import asyncio
import base64
import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from jupyter_datashare.core.crypto import HEADER_SIZE, SEGMENT, STORED_SEGMENT
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.keyring import MASTER_KEY_FILE, DatasetKey
from tests.conftest import link_for, path_of

JSON = {"Accept": "application/json"}
BIG = os.urandom(6 * SEGMENT + 321)
BIG_SHA = hashlib.sha256(BIG).hexdigest()
FILES = {"data/big.bin": BIG, "data/table.csv": "id,value\n1,10\n2,20\n"}


async def share_with_link(call, share, **body):
    d = await share(files=FILES, **body)
    link = await link_for(call, d["id"])
    return d, path_of(link["url"]) + ["files", "big.bin"]


def corrupt(ctx, dataset_id: str, segment: int) -> None:
    path = ctx.store.path(BIG_SHA, dataset_id)
    stored = bytearray(path.read_bytes())
    stored[HEADER_SIZE + segment * STORED_SEGMENT + 10] ^= 0x40
    os.chmod(path, 0o600)
    path.write_bytes(bytes(stored))


async def last_event(call) -> dict:
    return (await call.json("GET", "datashare", "api", "audit", params={"limit": "1"}))["events"][0]


# Large bodies are sent by sending processes by default; with 0 by threads of the server.
BOTH_PATHS = pytest.mark.parametrize("ds_config", [{"download_chunk_size": SEGMENT},
                                                   {"download_chunk_size": SEGMENT, "download_processes": 0}])


@BOTH_PATHS
async def test_encrypted_files_download_like_plain_ones(call, share, ctx, ds_config, jp_serverapp):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    assert ctx.store.has(BIG_SHA, d["id"]) and not ctx.store.has(BIG_SHA)
    assert BIG[:4096] not in ctx.store.path(BIG_SHA, d["id"]).read_bytes()
    full = await call("GET", *parts, anon=True)  # zero-copy is on: it must not send the stored ciphertext
    assert full.code == 200 and full.body == BIG and full.headers["Content-Length"] == str(len(BIG))
    assert full.headers["ETag"] == f'"{BIG_SHA}"'
    for rng, want in [(f"bytes={SEGMENT - 5}-{SEGMENT + 5}", BIG[SEGMENT - 5 : SEGMENT + 6]),
                      ("bytes=-100", BIG[-100:]), (f"bytes={3 * SEGMENT}-", BIG[3 * SEGMENT :])]:  # fmt: skip
        r = await call("GET", *parts, anon=True, headers={"Range": rng})
        assert r.code == 206 and r.body == want, rng
    head = await call("HEAD", *parts, anon=True)
    assert head.code == 200 and head.body == b"" and head.headers["Content-Length"] == str(len(BIG))
    listed = {f["path"]: f for f in d["files"]}
    assert listed["big.bin"]["size"] == len(BIG) and listed["big.bin"]["sha256"] == BIG_SHA
    senders = jp_serverapp.web_app.settings["datashare_senders"]
    # The path tested: the two bodies of more than one chunk (the whole file, its tail) went to a sender.
    assert senders.started == 2 and senders.processes == ds_config.get("download_processes", 2)


@pytest.mark.parametrize("segment, rng", [(0, None), (6, None), (6, "bytes=0-10"), (6, "bytes=-10")])
async def test_damage_at_the_start_or_the_end_is_a_clean_error_before_any_byte(call, share, ctx, segment, rng):
    """The first chunk is decrypted before headers go out, and every read checks the last
    segment first: so these fail with a JSON error, not a cut transfer."""
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    corrupt(ctx, d["id"], segment)
    headers = {**JSON, **({"Range": rng} if rng else {})}
    r = await call("GET", *parts, anon=True, headers=headers)
    assert r.code == 500 and "Content-Disposition" not in r.headers and "Content-Range" not in r.headers
    body = json.loads(r.body)
    assert body["error"] == "DamagedFile" and "damaged" in body["message"] and "segment" in body["message"]
    event = await last_event(call)
    assert (event["action"], event["outcome"], event["file"]) == ("file.corrupt", "error", "big.bin")


async def test_a_range_away_from_the_damage_is_still_served(call, share, ctx):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    corrupt(ctx, d["id"], 3)
    r = await call("GET", *parts, anon=True, headers={"Range": f"bytes=0-{3 * SEGMENT - 1}"})
    assert r.code == 206 and r.body == BIG[: 3 * SEGMENT]
    r = await call("GET", *parts, anon=True, headers={"Range": f"bytes={4 * SEGMENT}-"})
    assert r.code == 206 and r.body == BIG[4 * SEGMENT :]


async def raw_get(port: int, path: str) -> tuple[bytes, dict, bytes]:
    """A plain HTTP/1.1 client that reports exactly what arrived before the connection closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    body = await asyncio.wait_for(reader.read(), timeout=30)  # until the server closes
    writer.close()
    return status.encode(), headers, body


@pytest.mark.parametrize("ds_config", [{"download_chunk_size": SEGMENT},
                                       {"download_chunk_size": SEGMENT, "download_processes": 0}])
async def test_damage_found_mid_transfer_cuts_the_connection(call, share, ctx, ds_config, jp_http_port, jp_base_url):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    corrupt(ctx, d["id"], 4)
    status, headers, body = await raw_get(jp_http_port, jp_base_url + "/".join(parts))
    assert status.startswith(b"HTTP/1.1 200") and int(headers["content-length"]) == len(BIG)
    assert len(body) < len(BIG)  # a short transfer: the client knows it failed...
    assert body == BIG[: len(body)] and len(body) <= 4 * SEGMENT  # ...and nothing it got is wrong
    event = await last_event(call)
    assert (event["action"], event["outcome"]) == ("file.corrupt", "error") and "segment 5 of 7" in event["reason"]


async def download_everything(call, parts, anon=True):
    full = await call("GET", *parts, anon=anon)
    part = await call("GET", *parts, anon=anon, headers={"Range": f"bytes={2 * SEGMENT - 3}-{2 * SEGMENT + 3}"})
    assert (full.code, part.code) == (200, 206), (full.code, part.code, full.body[:200])
    assert full.body == BIG and part.body == BIG[2 * SEGMENT - 3 : 2 * SEGMENT + 4]


async def test_level_changes_keep_serving_the_same_bytes(call, share, ctx, clock):
    d = await share(files=FILES)
    ds_id, public = d["id"], ["datashare", "d", d["id"], "files", "big.bin"]
    await download_everything(call, public)
    assert ctx.store.has(BIG_SHA) and not ctx.store.has(BIG_SHA, ds_id)

    await call.json("PATCH", "datashare", "api", "datasets", ds_id, body={"access": {"level": "reviewer-only"}})
    assert ctx.store.has(BIG_SHA, ds_id) and not ctx.store.has(BIG_SHA)  # encrypted; the plain copy is gone
    assert (await call("GET", *public, anon=True)).code == 404
    link = path_of((await link_for(call, ds_id))["url"]) + ["files", "big.bin"]
    await download_everything(call, link)

    await call.json("PATCH", "datashare", "api", "datasets", ds_id, body={"access": {"level": "open"}})
    await download_everything(call, public)  # open again, still stored encrypted
    assert ctx.store.has(BIG_SHA, ds_id)

    await call.json("PATCH", "datashare", "api", "datasets", ds_id,
                    body={"access": {"level": "embargoed", "embargo_until": "2026-04-01"}})  # fmt: skip
    assert (await call("GET", *public, anon=True)).code == 403
    await download_everything(call, link)
    clock.advance(days=40)  # the embargo lifts by itself
    await download_everything(call, public)
    await download_everything(call, ["datashare", "api", "datasets", ds_id, "files", "big.bin"], anon=False)


async def test_withdrawal_removes_the_encrypted_files_and_their_key(call, share, ctx):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    await call.json("DELETE", "datashare", "api", "datasets", d["id"], body={"reason": "consent withdrawn"})
    assert not (ctx.store.encrypted / d["id"]).exists()
    with reading(ctx.engine) as s:
        assert s.get(DatasetKey, d["id"]).wrapped_key is None
    assert (await call("GET", *parts, anon=True)).code == 404


CONFIGURED = base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize("ds_config", [{"master_key": CONFIGURED}])
async def test_a_configured_master_key_is_used_instead_of_a_file(call, share, ctx, ds_config):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    assert not os.path.exists(os.path.join(ctx.settings.data_dir, MASTER_KEY_FILE))
    with reading(ctx.engine) as s:
        wrapped = s.get(DatasetKey, d["id"]).wrapped_key
    assert len(aes_key_unwrap(base64.b64decode(CONFIGURED), wrapped)) == 32
    r = await call("GET", *parts, anon=True)
    assert r.code == 200 and r.body == BIG


@pytest.fixture
def key_file_from_environment(tmp_path, monkeypatch):
    """Set before the server starts: the environment is the default of master_key_file."""
    path = tmp_path / "secrets" / "datashare.key"
    path.parent.mkdir()
    monkeypatch.setenv("JUPYTER_DATASHARE_MASTER_KEY_FILE", str(path))
    return path


async def test_a_master_key_file_from_the_environment_is_used(key_file_from_environment, call, share, ctx):
    d, parts = await share_with_link(call, share, access={"level": "reviewer-only"})
    assert len(key_file_from_environment.read_bytes()) == 32
    assert not os.path.exists(os.path.join(ctx.settings.data_dir, MASTER_KEY_FILE))
    assert (await call("GET", *parts, anon=True)).body == BIG
