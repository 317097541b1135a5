"""Decrypt on one thread, send on another: every byte in order over a real socket, and a
download that ends early (damage, a client gone or one that stops reading) gives its slot back."""

import asyncio
import io
import os
import socket

import pytest

from jupyter_datashare.core import crypto
from jupyter_datashare.core.crypto import HEADER_SIZE, SEGMENT, STORED_SEGMENT
from jupyter_datashare.server.send_ahead import BUFFERS, SendAhead

KEY = bytes(range(32))


@pytest.fixture
def stored_file(tmp_path):
    """Encrypt ``data`` to a file (optionally damaging one segment) and open it for reading."""
    opened = []

    def make(data: bytes, damage_segment: int | None = None) -> crypto.EncryptedFile:
        out = io.BytesIO()
        sha, _ = crypto.encrypt(KEY, io.BytesIO(data), out)
        stored = bytearray(out.getvalue())
        if damage_segment is not None:
            stored[HEADER_SIZE + damage_segment * STORED_SEGMENT + 3] ^= 1
        path = tmp_path / f"blob{len(opened)}"
        path.write_bytes(bytes(stored))
        opened.append(open(path, "rb"))
        return crypto.EncryptedFile(opened[-1], KEY, len(data), sha)

    yield make
    for f in opened:
        f.close()


def connected_pair():
    server, client = socket.socketpair()
    server.setblocking(False)  # as tornado leaves it
    return server, client


async def receive_all(sock) -> bytes:
    loop, got = asyncio.get_running_loop(), bytearray()
    sock.setblocking(False)
    while chunk := await loop.sock_recv(sock, 1 << 16):
        got += chunk
    return bytes(got)


async def serve(ahead: SendAhead, encrypted, sock, chunk=SEGMENT):
    views = encrypted.views(0, encrypted.size - 1, chunk, buffers=BUFFERS)
    assert ahead.try_reserve()
    first = next(views)
    return await ahead.run(sock, first, views)


async def test_every_byte_arrives_in_order_and_the_slot_is_given_back(stored_file):
    data = os.urandom(11 * SEGMENT + 77)
    ahead, (server, client) = SendAhead(slots=1, stall_timeout=30), connected_pair()
    sending = asyncio.ensure_future(serve(ahead, stored_file(data), server))
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(sending, 30)
    server.close()
    assert (sent, error) == (len(data), None)
    assert await asyncio.wait_for(received, 30) == data
    assert ahead.try_reserve()  # the one slot is free again


async def test_all_slots_taken_means_the_caller_decrypts_inline():
    ahead = SendAhead(slots=2, stall_timeout=30)
    assert ahead.try_reserve() and ahead.try_reserve()
    assert not ahead.try_reserve()


async def test_damage_mid_file_stops_after_the_good_bytes(stored_file):
    data = os.urandom(8 * SEGMENT)
    ahead, (server, client) = SendAhead(slots=1, stall_timeout=30), connected_pair()
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(serve(ahead, stored_file(data, damage_segment=5), server), 30)
    server.close()
    assert isinstance(error, crypto.DamagedFile) and error.segment == 5
    got = await asyncio.wait_for(received, 30)
    assert sent == len(got) == 5 * SEGMENT and got == data[: 5 * SEGMENT]  # never a wrong byte
    assert ahead.try_reserve()


async def test_a_client_that_goes_away_frees_the_slot(stored_file):
    data = os.urandom(64 * SEGMENT)  # 4 MiB: more than the socket buffers hold
    ahead, (server, client) = SendAhead(slots=1, stall_timeout=30), connected_pair()
    client.close()
    sent, error = await asyncio.wait_for(serve(ahead, stored_file(data), server), 30)
    server.close()
    assert isinstance(error, OSError) and sent < len(data)
    assert ahead.try_reserve()


async def test_a_client_that_stops_reading_is_cut_off_after_the_stall_timeout(stored_file):
    data = os.urandom(256 * SEGMENT)  # 16 MiB: the socket buffers fill up long before the end
    ahead, (server, client) = SendAhead(slots=1, stall_timeout=0.3), connected_pair()
    sent, error = await asyncio.wait_for(serve(ahead, stored_file(data), server), 30)
    server.close()
    client.close()
    assert isinstance(error, TimeoutError) and "read nothing" in str(error) and 0 < sent < len(data)
    assert ahead.try_reserve()


@pytest.mark.parametrize("chunk", [SEGMENT, 3 * SEGMENT, 1 << 20])
async def test_chunk_sizes_do_not_change_the_bytes(stored_file, chunk):
    data = os.urandom(40 * SEGMENT + 1)
    ahead, (server, client) = SendAhead(slots=1, stall_timeout=30), connected_pair()
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(serve(ahead, stored_file(data), server, chunk), 30)
    server.close()
    assert error is None and await asyncio.wait_for(received, 30) == data
