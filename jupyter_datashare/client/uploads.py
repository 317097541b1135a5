"""Sending a share's files to the service: each hashed (SHA-256), then handed from disk to the
socket by the kernel (sendfile) into the caller's folder there (``PUT api/files/{path}``,
core/uploads.py on the other side), an interrupted request going on from what arrived. Never a
whole file in memory. Progress is the furthest byte sent of a file: bytes sent again after a
broken connection are not counted twice; ``progress`` may raise to stop the upload."""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import threading
import time

from ..core.errors import InvalidInput
from .connection import Service, ServiceError, ServiceUnreachable

# Bytes per request. The service keeps what arrived of a broken request and the client goes on
# from there, so big is cheap; one request per file lets the service hash it as it arrives (a
# file in several requests is hashed again whole at its end).
CHUNK = 16 << 30
RETRIES = 3  # broken connections in a row, per file, before the upload gives up
SMALL = 16 << 20  # files up to this size are hashed, then sent; bigger ones are hashed as they are sent
TAIL = 1 << 20  # a big file's last bytes, sent with its hash


def sha256_of(f, stop=None) -> tuple[str, int]:
    """The SHA-256 and size of an open file, read from its start; ``stop()`` is called between
    blocks (it raises to cancel)."""
    h, size = hashlib.sha256(), 0
    f.seek(0)
    while block := f.read(1 << 20):
        h.update(block)
        size += len(block)
        if stop is not None:
            stop()
    return h.hexdigest(), size


def _advance(mark: list, position: int, progress) -> None:
    if position > mark[0]:
        if progress is not None:
            progress(position - mark[0])
        mark[0] = position


NOTHING_YET = {"received": 0, "complete": False}


class _Upload:
    """One file's way to the service: what it is called there, its size, its hash once known, the
    client's random name for it (``upload_id``: the hash may then come with the last bytes)."""

    def __init__(self, service: Service, remote: str, size: int, sha: str = "", upload_id: str = ""):
        self.service, self.remote, self.size, self.sha, self.upload_id = service, remote, size, sha, upload_id
        self.rel = "api/files/" + Service.quoted(remote)

    def state(self) -> dict:
        query = {"size": self.size, "sha256": self.sha, "upload": self.upload_id or None}
        return self.service.call("GET", self.rel, query=query).json()

    def send(self, f, end: int, mark: list, progress, state: dict | None = None) -> None:
        """Bytes up to ``end`` (the file's size: its last ones, with the hash), from what arrived
        (``state``, else asked). The first try of a file assumes nothing arrived: one request per
        small file; if some did, the service names the offset and the client asks where it is."""
        state, broken = state or self.state(), 0
        while not state["complete"] and state["received"] < end:
            offset = state["received"]
            _advance(mark, offset, progress)
            n = min(CHUNK, end - offset)
            # Every file this client sends is shared (or moved in) next with its SHA-256 in the
            # manifest, which the service's freeze checks: hashing on arrival too was done twice.
            headers = {"Content-Type": "application/octet-stream", "X-Upload-Check": "share"}
            if self.sha:
                headers["X-File-SHA256"] = self.sha
            if self.upload_id:
                headers["X-Upload-Id"] = self.upload_id
            if self.size:
                headers["Content-Range"] = f"bytes {offset}-{offset + n - 1}/{self.size}"
            try:
                reply = self.service.put_file(self.rel, f, offset, n, headers=headers,
                                              sent=lambda at: _advance(mark, at, progress))  # fmt: skip
                state = reply.finish().json()
            except InvalidInput as exc:
                if exc.field != "offset" or broken:
                    raise
                broken += 1
                state = self.state()  # some of it arrived before (an earlier try): go on from there
                continue
            except (ServiceUnreachable, http.client.HTTPException, ConnectionError) as exc:
                broken += 1
                if broken > RETRIES:
                    raise ServiceUnreachable(self.service.url, f"{self.remote}: {exc}") from None
                time.sleep(0.2 * broken)
                state = self.state()  # what arrived is kept: go on from there
                continue
            broken = 0
        if end == self.size and not state["complete"]:
            raise ServiceError(500, {"message": f"the service has all of '{self.remote}' but did not keep it"})
        _advance(mark, self.size if state["complete"] else end, progress)


def send_file(service: Service, f, remote: str, size: int, sha: str, progress=None) -> None:
    """Put the open local file ``f`` at ``remote`` (relative to the caller's folder on the
    service); the service keeps it only once all its bytes hash to ``sha``. Goes on from what
    already arrived."""
    _Upload(service, remote, size, sha).send(f, size, [0], progress, state=NOTHING_YET)


class _Hasher(threading.Thread):
    """The SHA-256 of a file's first ``size`` bytes, read with pread beside the kernel's sendfile."""

    def __init__(self, fd: int, size: int):
        super().__init__(daemon=True, name="datashare-hash")
        self.fd, self.size, self.stopped, self.digest, self.error = fd, size, threading.Event(), None, None

    def run(self) -> None:
        try:
            h, at = hashlib.sha256(), 0
            while at < self.size and not self.stopped.is_set():
                block = os.pread(self.fd, min(1 << 20, self.size - at), at)
                if not block:
                    raise OSError("the file got shorter while it was sent")
                h.update(block)
                at += len(block)
            self.digest = h.hexdigest()
        except OSError as exc:
            self.error = exc

    def result(self) -> str:
        self.join()
        if self.error is not None or self.digest is None:
            raise InvalidInput("path", f"a file could not be read as it was sent ({self.error})")
        return self.digest


def send(service: Service, f, remote: str, progress=None, stop=None) -> str:
    """Send the open file ``f`` (from its start, its size now) to ``remote``; returns its SHA-256.
    A small file is hashed, then sent; a big one is hashed as it is sent (a thread reads it beside
    the kernel sending it), its last bytes going with the hash in a request of their own."""
    size = os.fstat(f.fileno()).st_size
    if size <= SMALL:
        sha, size = sha256_of(f, stop)
        send_file(service, f, remote, size, sha, progress)
        return sha
    up = _Upload(service, remote, size, upload_id=secrets.token_urlsafe(24))
    hasher, mark = _Hasher(f.fileno(), size), [0]
    hasher.start()

    def moved(n: int) -> None:
        if stop is not None:
            stop()
        if progress is not None:
            progress(n)

    try:
        up.send(f, size - TAIL, mark, moved, state=NOTHING_YET)  # a new upload id: nothing is there
        up.sha = hasher.result()
        up.send(f, size, mark, moved)
        return up.sha
    finally:
        hasher.stopped.set()
