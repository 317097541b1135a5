"""Streaming a file of a dataset: bounded memory, one byte range, the stored SHA-256 as ETag.

Plain stored files go out with sendfile (zero-copy) where possible; encrypted ones are decrypted
a chunk at a time into one buffer that is handed to the socket.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import socket
from urllib.parse import quote

from tornado.iostream import IOStream

from ..core import crypto, reads
from . import send_ahead


_SINGLE_RANGE = re.compile(r"[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*", re.IGNORECASE)
# A position with more digits than this is past the end of any file: read as this many nines, it
# means the same (a first byte after the end, a last byte or suffix covering the whole file).
_MAX_DIGITS = 18


def usable_range(header: str | None) -> str | None:
    """The Range header in the form the core reads, or None to ignore it (RFC 9110 §14.2).

    A header that is not one byte range (another unit, bad syntax, several ranges, which we do
    not serve as multipart) is ignored and the whole file answers 200; a well-formed range
    outside the file still answers 416. Numbers are cut to their meaning, never converted whole.
    """
    if header is None:
        return None
    m = _SINGLE_RANGE.fullmatch(header)
    if m is None or m.groups() == ("", ""):
        return None
    first, last = (_position(g) for g in m.groups())
    return f"bytes={first}-{last}"


def _position(digits: str) -> str:
    if not digits:
        return ""
    digits = digits.lstrip("0") or "0"
    return "9" * _MAX_DIGITS if len(digits) > _MAX_DIGITS else digits


def content_disposition(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class DownloadMixin:
    """Serves what ``core.reads.open_file`` allowed; needs DataShareMixin beside it."""

    async def serve(self, dataset, principal, path: str, version: int | None = None) -> None:
        ctx = self.datashare
        range_header = usable_range(self.request.headers.get("Range"))
        if_range = self.request.headers.get("If-Range")
        fr = await self.in_thread(
            reads.open_file, ctx, dataset, principal, path, version=version,
            range_header=range_header, if_range=if_range, client=self.client,
        )  # fmt: skip
        etag = f'"{fr.sha256}"'
        self.set_header("ETag", etag)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Cache-Control", "no-store" if self.capability else "private, no-cache")
        if self.request.headers.get("If-None-Match") in (etag, f"W/{etag}"):
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Disposition", content_disposition(fr.path))
        mime, _ = mimetypes.guess_type(fr.path)
        self.set_header("Content-Type", mime or "application/octet-stream")
        if fr.partial:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {fr.start}-{fr.end}/{fr.size}")
        self.set_header("Content-Length", str(fr.length))
        if self.request.method == "HEAD":
            self.finish()
            return
        if fr.encrypted:
            await self._send_decrypted(fr)
        elif not await self._send_zero_copy(fr):
            for chunk in fr.chunks(self.settings.get("datashare_chunk_size", 1 << 20)):
                self.write(chunk)
                # Waits until the socket took the chunk: memory stays at about one chunk, and
                # other requests get their turn between chunks.
                await self.flush()
        self.finish()

    async def _send_decrypted(self, fr) -> None:
        """Decrypt chunk by chunk and hand each chunk to the connection.

        The first chunk is decrypted before anything is sent, and reading it authenticates the
        file's last segment first, so damage at the start or the end of the range is a clean
        error reply. Damage found later cuts the connection: the client sees a short transfer,
        never wrong bytes (the core has already written the ``file.corrupt`` event).
        On a plain TCP connection the rest is decrypted on one thread while another sends
        (``send_ahead``); otherwise, or when those threads are all busy, right here.
        """
        views = fr.views(self.settings.get("datashare_chunk_size", 1 << 20), buffers=send_ahead.BUFFERS)
        handed_over = False  # once the decrypting thread owns ``views``, only it may close them
        try:
            # Opening checks the header and the last segment; off the event loop, like the
            # audit event a damaged file writes.
            view = await self.in_thread(next, views, None)
            await self.flush()  # the headers
            conn = self.request.connection
            _large_send_buffer(conn.stream)
            ahead = self.settings.get("datashare_send_ahead")  # None when turned off
            sock = _plain_socket(conn)
            if view is not None and sock is not None and ahead is not None and ahead.try_reserve():
                handed_over = True
                sent, error = await ahead.run(sock, view, views)
                conn._expected_content_remaining -= sent
                if error is not None:
                    conn.stream.close()
                return
            while view is not None:
                # Straight to the connection: RequestHandler.write takes bytes only, a copy.
                # The write resolves once the socket took it all, so the buffer is free again.
                await conn.write(view)
                try:
                    view = next(views, None)
                except crypto.DamagedFile:
                    conn.stream.close()
                    return
        finally:
            if not handed_over:
                views.close()

    async def _send_zero_copy(self, fr) -> bool:
        """Let the kernel copy file to socket (sendfile) on a plain TCP connection.

        tornado has no sendfile (tornado#1448), so once the headers are flushed we hand the
        socket to asyncio's ``sock_sendfile``, which waits for writability between calls and
        so keeps other requests served. TLS connections, or a tornado whose internals differ,
        take the chunked path instead.
        """
        conn = self.request.connection
        if not self.settings.get("datashare_zero_copy", True) or not hasattr(os, "sendfile") or fr.length == 0:
            return False
        await self.flush()  # the headers; after this tornado has nothing queued on the socket
        sock = _plain_socket(conn)
        if sock is None:
            return False
        stream = conn.stream
        loop = asyncio.get_running_loop()
        _large_send_buffer(stream)
        try:
            with fr.open() as f:
                sent = await loop.sock_sendfile(sock, f, fr.start, fr.length, fallback=False)
        except (BrokenPipeError, ConnectionResetError):
            stream.close()  # the client went away; nothing more to do
            return True
        # Tell tornado's HTTP/1 writer the body went out, so its Content-Length check holds.
        conn._expected_content_remaining -= sent
        return True


def _plain_socket(conn):
    """The connection's socket when the body may bypass tornado: a plain TCP stream (no TLS)
    whose HTTP/1 writer counts the body as we expect. Call once the headers are flushed."""
    stream = getattr(conn, "stream", None)
    if type(stream) is not IOStream or not isinstance(getattr(conn, "_expected_content_remaining", None), int):
        return None
    return stream.socket


def _large_send_buffer(stream) -> None:
    """A larger send buffer means fewer wake-ups of the event loop per MiB."""
    try:
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    except (OSError, AttributeError):
        pass
