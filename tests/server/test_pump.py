"""Decrypt on one thread, send on another (and sendfile for plain bodies): every byte in order
over a real socket, and a body that ends early (damage, a client gone or one that stops reading)
says why and how much went out."""

import asyncio
import io
import os
import socket

import pytest

from jupyter_datashare.core import crypto
from jupyter_datashare.core.crypto import HEADER_SIZE, SEGMENT, STORED_SEGMENT
from jupyter_datashare.server import pump
from jupyter_datashare.server.pump import BUFFERS

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


async def serve(encrypted, sock, chunk=SEGMENT, stall_timeout=30):
    views = encrypted.views(0, encrypted.size - 1, chunk, buffers=BUFFERS)
    return await asyncio.to_thread(pump.send_views, sock, views, stall_timeout)


async def test_every_byte_arrives_in_order(stored_file):
    data = os.urandom(11 * SEGMENT + 77)
    server, client = connected_pair()
    sending = asyncio.ensure_future(serve(stored_file(data), server))
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(sending, 30)
    server.close()
    assert (sent, error) == (len(data), None)
    assert await asyncio.wait_for(received, 30) == data


@pytest.mark.parametrize("offset, length", [(0, 3 << 20), (12345, 1 << 20)])
async def test_a_plain_body_goes_out_with_sendfile_from_its_offset(tmp_path, offset, length):
    data = os.urandom(4 << 20)
    (tmp_path / "blob").write_bytes(data)
    server, client = connected_pair()
    received = asyncio.ensure_future(receive_all(client))
    with open(tmp_path / "blob", "rb") as f:
        sent, error = await asyncio.to_thread(pump.send_file, server, f.fileno(), offset, length, 30)
    server.close()
    assert (sent, error) == (length, None)
    assert await asyncio.wait_for(received, 30) == data[offset : offset + length]


async def test_a_stored_file_shorter_than_its_manifest_is_an_error_not_a_hang(tmp_path):
    (tmp_path / "blob").write_bytes(b"x" * 1000)
    server, client = connected_pair()
    with open(tmp_path / "blob", "rb") as f:
        sent, error = await asyncio.to_thread(pump.send_file, server, f.fileno(), 0, 5000, 30)
    server.close()
    client.close()
    assert sent == 1000 and isinstance(error, OSError) and "early" in str(error)


async def test_damage_mid_file_stops_after_the_good_bytes(stored_file):
    data = os.urandom(8 * SEGMENT)
    server, client = connected_pair()
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(serve(stored_file(data, damage_segment=5), server), 30)
    server.close()
    assert isinstance(error, crypto.DamagedFile) and error.segment == 5
    got = await asyncio.wait_for(received, 30)
    assert sent == len(got) == 5 * SEGMENT and got == data[: 5 * SEGMENT]  # never a wrong byte


async def test_a_client_that_goes_away_ends_the_body(stored_file):
    data = os.urandom(64 * SEGMENT)  # 4 MiB: more than the socket buffers hold
    server, client = connected_pair()
    client.close()
    sent, error = await asyncio.wait_for(serve(stored_file(data), server), 30)
    server.close()
    assert isinstance(error, OSError) and sent < len(data)


async def test_a_client_that_stops_reading_is_cut_off_after_the_stall_timeout(stored_file):
    data = os.urandom(256 * SEGMENT)  # 16 MiB: the socket buffers fill up long before the end
    server, client = connected_pair()
    sent, error = await asyncio.wait_for(serve(stored_file(data), server, stall_timeout=0.3), 30)
    server.close()
    client.close()
    assert isinstance(error, TimeoutError) and "read nothing" in str(error) and 0 < sent < len(data)


@pytest.mark.parametrize("chunk", [SEGMENT, 3 * SEGMENT, 1 << 20])
async def test_chunk_sizes_do_not_change_the_bytes(stored_file, chunk):
    data = os.urandom(40 * SEGMENT + 1)
    server, client = connected_pair()
    received = asyncio.ensure_future(receive_all(client))
    sent, error = await asyncio.wait_for(serve(stored_file(data), server, chunk), 30)
    server.close()
    assert error is None and await asyncio.wait_for(received, 30) == data
