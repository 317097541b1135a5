"""Sending a share's files to the service: each hashed (SHA-256), then handed from disk to the
socket by the kernel (sendfile) into the caller's folder there (``PUT api/files/{path}``,
core/uploads.py on the other side), an interrupted request going on from what arrived. Never a
whole file in memory. Progress is the furthest byte sent of a file: bytes sent again after a
broken connection are not counted twice; ``progress`` may raise to stop the upload."""

from __future__ import annotations

import hashlib
import http.client
import time

from .connection import Service, ServiceError, ServiceUnreachable

# Bytes per request. The service keeps what arrived of a broken request and the client goes on
# from there, so big is cheap; one request per file lets the service hash it as it arrives (a
# file in several requests is hashed again whole at its end).
CHUNK = 16 << 30
RETRIES = 3  # broken connections in a row, per file, before the upload gives up


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


def _state(service: Service, remote: str, size: int, sha: str) -> dict:
    return service.call("GET", "api/files/" + Service.quoted(remote), query={"sha256": sha, "size": size}).json()


def send_file(service: Service, f, remote: str, size: int, sha: str, progress=None, chunk: int = CHUNK) -> None:
    """Put the open local file ``f`` at ``remote`` (relative to the caller's folder on the
    service); the service keeps it only once all its bytes hash to ``sha``. Goes on from what
    already arrived."""
    rel = "api/files/" + Service.quoted(remote)
    mark = [0]  # the furthest byte of this file reported to ``progress``
    received = _state(service, remote, size, sha)
    if received["complete"]:
        _advance(mark, size, progress)
        return
    offset, broken = received["received"], 0
    _advance(mark, offset, progress)
    while True:
        n = min(chunk, size - offset)
        headers = {"X-File-SHA256": sha, "Content-Type": "application/octet-stream"}
        if size:
            headers["Content-Range"] = f"bytes {offset}-{offset + n - 1}/{size}"
        try:
            reply = service.put_file(rel, f, offset, n, headers=headers, sent=lambda at: _advance(mark, at, progress))
            state = reply.finish().json()
        except (ServiceUnreachable, http.client.HTTPException, ConnectionError) as exc:
            broken += 1
            if broken > RETRIES:
                raise ServiceUnreachable(service.url, f"{remote}: {exc}") from None
            time.sleep(0.2 * broken)
            offset = _state(service, remote, size, sha)["received"]  # what arrived is kept
            continue
        broken = 0
        offset = state["received"]
        if state["complete"]:
            return
        if offset >= size:
            raise ServiceError(500, {"message": f"the service has all of '{remote}' but did not keep it"})
