"""Large bodies are sent off the event loop, by sending processes; a crowd waits its turn or is
told 503 with Retry-After, and never keeps the server from answering anyone else."""

import asyncio
import hashlib
import json
import os
import signal

import pytest

from jupyter_datashare.core.crypto import SEGMENT
from tests.conftest import link_for, path_of

BIG = os.urandom(16 << 20)  # far more than the socket buffers hold: a client that reads nothing stalls it
BIG_SHA = hashlib.sha256(BIG).hexdigest()
FILES = {"data/big.bin": BIG, "data/small.txt": "a few bytes\n"}


async def reviewer_link(call, share, senders=None) -> list[str]:
    d = await share(files=FILES, access={"level": "reviewer-only"})  # stored encrypted
    if senders is not None:  # the sending processes start on first need; these tests want them up
        assert await asyncio.to_thread(senders.warm_up, 60)
    return path_of((await link_for(call, d["id"]))["url"])


class Reader:
    """A client that sends its request, reads the head, and then reads the body only when told."""

    def __init__(self, port: int, path: str):
        self.port, self.path = port, path

    async def start(self) -> str:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await self.writer.drain()
        head = (await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)).decode()
        self.status = int(head.split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:] if line)}
        return head

    async def rest(self) -> bytes:
        body = await asyncio.wait_for(self.reader.read(), 60)
        self.writer.close()
        return body


def url(jp_base_url: str, parts: list[str]) -> str:
    return jp_base_url.rstrip("/") + "/" + "/".join(parts)


@pytest.mark.parametrize("ds_config", [{"download_chunk_size": 4 * SEGMENT}])
async def test_the_server_answers_while_encrypted_downloads_are_in_flight(call, share, jp_serverapp, jp_http_port,
                                                                        jp_base_url, ds_config):
    senders = jp_serverapp.web_app.settings["datashare_senders"]
    parts = await reviewer_link(call, share, senders)
    stalled = [Reader(jp_http_port, url(jp_base_url, parts + ["files", "big.bin"])) for _ in range(6)]
    for r in stalled:  # six downloads under way whose clients read nothing yet
        await r.start()
        assert r.status == 200
    assert senders.started == 6 and senders.processes == 2  # their bodies are in the sending processes
    # Meanwhile the owner's API and a small public download are answered.
    listed = await call.json("GET", "datashare", "api", "datasets")
    assert listed
    small = await call("GET", *parts, "files", "small.txt", anon=True)
    assert small.code == 200 and small.body == b"a few bytes\n"
    for r in stalled:  # and every stalled download then gets every byte, in order
        assert await r.rest() == BIG


@pytest.mark.parametrize("ds_config", [{"download_chunk_size": 4 * SEGMENT, "downloads_at_once": 1,
                                        "downloads_waiting": 0}])
async def test_past_the_slots_and_the_queue_a_download_is_a_503_with_retry_after(call, share, jp_http_port,
                                                                               jp_base_url, ds_config):
    parts = await reviewer_link(call, share)
    first = Reader(jp_http_port, url(jp_base_url, parts + ["files", "big.bin"]))
    await first.start()  # holds the one slot: its client reads nothing
    busy = await call("GET", *parts, "files", "big.bin", anon=True, headers={"Accept": "application/json"})
    assert busy.code == 503 and int(busy.headers["Retry-After"]) > 0
    assert json.loads(busy.body)["error"] == "Busy" and BIG[:4096] not in busy.body
    small = await call("GET", *parts, "files", "small.txt", anon=True)  # one chunk: needs no slot
    assert small.code == 200
    assert await first.rest() == BIG
    again = await call("GET", *parts, "files", "big.bin", anon=True)  # the slot is free again
    assert again.code == 200 and again.body == BIG


@pytest.mark.parametrize("ds_config", [{"download_chunk_size": 4 * SEGMENT, "downloads_at_once": 1,
                                        "downloads_waiting": 4, "download_wait_seconds": 30}])
async def test_a_waiting_download_goes_out_when_the_slot_frees(call, share, jp_http_port, jp_base_url, ds_config):
    parts = await reviewer_link(call, share)
    first = Reader(jp_http_port, url(jp_base_url, parts + ["files", "big.bin"]))
    await first.start()
    second = asyncio.ensure_future(call("GET", *parts, "files", "big.bin", anon=True))
    await asyncio.sleep(0.5)
    assert not second.done()  # waiting its turn, not refused
    assert await first.rest() == BIG
    r = await asyncio.wait_for(second, 60)
    assert r.code == 200 and r.body == BIG


@pytest.mark.parametrize("ds_config", [{"download_chunk_size": 4 * SEGMENT, "download_processes": 1}])
async def test_a_sending_process_that_dies_cuts_its_downloads_and_is_replaced(call, share, jp_serverapp,
                                                                            jp_http_port, jp_base_url, ds_config):
    senders = jp_serverapp.web_app.settings["datashare_senders"]
    parts = await reviewer_link(call, share, senders)
    stalled = Reader(jp_http_port, url(jp_base_url, parts + ["files", "big.bin"]))
    await stalled.start()
    (worker,) = [w for w in senders._workers if w.alive]
    os.kill(worker.proc.pid, signal.SIGKILL)
    body = await stalled.rest()
    assert len(body) < len(BIG) and body == BIG[: len(body)]  # a short transfer, never a wrong byte
    r = await call("GET", *parts, "files", "big.bin", anon=True)  # sent while a new process starts
    assert r.code == 200 and r.body == BIG
    assert await asyncio.to_thread(senders.warm_up, 60)  # and the new one sends the next
    (new,) = [w for w in senders._workers if w.alive]
    assert new.proc.pid != worker.proc.pid
    r = await call("GET", *parts, "files", "big.bin", anon=True)
    assert r.code == 200 and r.body == BIG
