"""Streaming a file of a dataset: bounded memory, one byte range, the stored SHA-256 as ETag.

Plain stored files go out with sendfile (zero-copy) where possible; encrypted ones are decrypted
a chunk at a time into a few reused buffers handed to the socket. Both by senders, off the loop.
"""

from __future__ import annotations

import mimetypes
import re
import socket
from urllib.parse import quote

from tornado.iostream import IOStream, StreamClosedError

from ..core import crypto, reads
from . import pump


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
    """Serves what ``core.reads.open_file`` allowed; needs DataShareMixin beside it.

    Nothing here reads or decrypts on the event loop: deciding, auditing and the first chunk
    (the whole body of a small file) happen in one trip to a thread, and a larger body goes to
    a sender (``senders``), or chunk by chunk through threads where a sender cannot take the
    connection (TLS).
    """

    async def serve(self, find, path: str, version: int | None = None) -> None:
        """``find()`` (run in the same thread as the read's decision) returns the dataset and the
        principal reading it, or raises (NotFound, ...): one trip to a thread per download."""
        ctx = self.datashare
        range_header = usable_range(self.request.headers.get("Range"))
        if_range = self.request.headers.get("If-Range")
        if_none_match = self.request.headers.get("If-None-Match")
        chunk = self.settings.get("datashare_chunk_size", 1 << 20)
        wants_body = self.request.method != "HEAD"

        def decide():
            dataset, principal = find()
            fr = reads.open_file(ctx, dataset, principal, path, version=version, range_header=range_header,
                                 if_range=if_range, client=self.client)  # fmt: skip
            if not wants_body or if_none_match in (f'"{fr.sha256}"', f'W/"{fr.sha256}"'):
                return fr, None
            if fr.length <= chunk:  # a small file: all of it now, in this one trip to a thread
                return fr, b"".join(fr.chunks(chunk))
            if not fr.encrypted:
                return fr, b""  # a sender copies it all (sendfile)
            # The first segment now: opening checks the header and the last segment, so damage
            # at the start or the end of the range is a clean error reply before any byte.
            views = fr.views(crypto.SEGMENT)
            try:
                return fr, bytes(next(views))
            finally:
                views.close()

        fr, first = await self.in_thread(decide)
        if self._headers_for(fr, if_none_match) and first is not None:
            await self._send_body(fr, first, chunk)
        if not self._finished:
            self.finish()

    def _headers_for(self, fr, if_none_match) -> bool:
        """Set the headers; False when the answer is complete without a body (304, HEAD)."""
        etag = f'"{fr.sha256}"'
        self.set_header("ETag", etag)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Cache-Control", "no-store" if self.capability else "private, no-cache")
        if if_none_match in (etag, f"W/{etag}"):
            self.set_status(304)
            self.finish()
            return False
        self.set_header("Content-Disposition", content_disposition(fr.path))
        mime, _ = mimetypes.guess_type(fr.path)
        self.set_header("Content-Type", mime or "application/octet-stream")
        if fr.partial:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {fr.start}-{fr.end}/{fr.size}")
        self.set_header("Content-Length", str(fr.length))
        if self.request.method == "HEAD":
            self.finish()
            return False
        return True

    async def _send_body(self, fr, first: bytes, chunk: int) -> None:
        """``first`` is read; the rest is sent by a sender, or chunk by chunk from threads.

        Damage found after the headers went out cuts the connection: the client sees a short
        transfer, never wrong bytes (the core has already written the ``file.corrupt`` event)."""
        if len(first) >= fr.length:  # a small file: all of it is here
            self.write(first)
            return
        senders = self.settings["datashare_senders"]
        await senders.reserve()  # a 503 with Retry-After, before any byte, when too many wait
        rest = None
        try:
            await self.flush()  # the headers
            conn = self.request.connection
            if first:
                await conn.write(first)
            start = fr.start + len(first)
            sock = _plain_socket(conn)
            if sock is not None and (fr.encrypted or self.settings.get("datashare_zero_copy", True)):
                _large_send_buffer(conn.stream)
                sent, error = await senders.send(sock, fr, start, chunk)
                conn._expected_content_remaining -= sent
                if error is not None:
                    conn.stream.close()
                return
            rest = fr.views(chunk, buffers=pump.BUFFERS, start=start) if fr.encrypted else fr.chunks(chunk)
            while piece := await self.in_thread(next, rest, b""):
                # Straight to the connection: RequestHandler.write takes bytes only, a copy.
                # The write resolves once the socket took it all, so the buffer is free again.
                await conn.write(piece)
        except crypto.DamagedFile:
            self.request.connection.stream.close()
        except (StreamClosedError, OSError):
            pass  # the client went away
        finally:
            senders.release()
            if rest is not None:
                rest.close()


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
