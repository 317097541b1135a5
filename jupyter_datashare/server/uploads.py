"""``PUT api/files/{path}``: a file into the caller's folder on the service, streamed (never whole
in memory), in resumable chunks, kept only if its SHA-256 is the announced one (core/uploads.py).

Headers: ``X-File-SHA256`` (the whole file's hash, hex) and, for a chunk, ``Content-Range: bytes
FIRST-LAST/SIZE`` (without it the body is the whole file). ``GET api/files/{path}?sha256=…&size=…``
says how many bytes of that file have arrived, so an interrupted upload goes on from there.
``X-Upload-Id`` (a random name the client gives one upload) instead lets the SHA-256 come with the
request that sends the last bytes: the client hashes as it sends (``GET …?upload=…&size=…``).
``X-Upload-Check: share`` skips the hash on arrival: the client shares the file next with its
SHA-256 in the manifest, and the share's freeze checks it as it copies the file into the store.
``DELETE api/files/{path}`` takes a file or folder out of the caller's folder (after a share).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core import uploads
from ..core.errors import DataShareError, InvalidInput
from .api import _int_arg
from .base import OwnerAPIHandler

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
WINDOW = 4  # pieces (of 1 MiB in the service) written and hashed while the next are read


def _checked_at_share(request) -> bool:
    value = (request.headers.get("X-Upload-Check") or "arrival").strip().lower()
    if value not in ("arrival", "share"):
        raise InvalidInput("X-Upload-Check", "must be arrival (the default) or share")
    return value == "share"


class FolderFileAPI(OwnerAPIHandler):
    auth_resource = "datashare:datasets"
    _stream_request_body = True  # as @web.stream_request_body sets it

    async def prepare(self, *args, **kwargs):
        self._writer, self._failed, self._lane = None, None, None
        done = super().prepare(*args, **kwargs)
        if done is not None:
            await done
        if self.request.method != "PUT":
            return
        rel = self.path_args[0]
        length = int(self.request.headers.get("Content-Length", "-1"))
        if length < 0:
            raise InvalidInput("Content-Length", "is required: the bytes of this chunk")
        sent = self.request.headers.get("Content-Range")
        if sent is None:
            offset, size = 0, length
        else:
            m = _RANGE.fullmatch(sent.strip())
            if not m or int(m.group(2)) - int(m.group(1)) + 1 != length or int(m.group(2)) >= int(m.group(3)):
                raise InvalidInput("Content-Range", "must be 'bytes FIRST-LAST/SIZE' matching the body")
            offset, size = int(m.group(1)), int(m.group(3))
        sha = (self.request.headers.get("X-File-SHA256") or "").strip().lower()
        upload_id = (self.request.headers.get("X-Upload-Id") or "").strip()
        owner = self.owner  # 401/403 before anything is written
        limit = self.settings["datashare_max_upload_bytes"]
        if length > limit:
            raise InvalidInput("Content-Length", f"is over {limit} bytes, the most one request may send here")
        self.request.connection.set_max_body_size(limit)  # tornado's 100 MB default, for this request only
        t = await self.in_thread(uploads.target, self.datashare, owner, rel, size, sha, upload_id,
                                 checked_at_share=_checked_at_share(self.request))  # fmt: skip
        await self.in_thread(uploads.check_room, t, length, self.settings["datashare_upload_keep_free"])
        self._writer = await self.in_thread(uploads.Writer, t, offset, length)
        # One thread of its own writes and hashes this body's pieces, in order, while the event
        # loop reads the next ones: the two run side by side instead of taking turns.
        self._lane, self._inflight = ThreadPoolExecutor(1, thread_name_prefix="datashare-upload"), deque()

    def _in_lane(self, fn, *args):
        return asyncio.wrap_future(self._lane.submit(fn, *args))

    async def _settle(self, future) -> None:
        try:
            await future
        except DataShareError as exc:
            self._failed = self._failed or exc

    async def data_received(self, chunk: bytes) -> None:
        # Awaited by tornado before it reads more: past WINDOW pieces in flight the disk sets the pace.
        if self._writer is not None and self._failed is None:
            self._inflight.append(self._in_lane(self._writer.write, chunk))
            if len(self._inflight) >= WINDOW:
                await self._settle(self._inflight.popleft())

    def on_connection_close(self) -> None:
        if self._writer is not None:
            self._lane.submit(self._writer.abandon)  # after the pieces already queued

    def on_finish(self) -> None:
        if getattr(self, "_lane", None) is not None:
            self._lane.shutdown(wait=False)

    @web.authenticated
    @authorized
    async def put(self, rel):
        while self._inflight:
            await self._settle(self._inflight.popleft())
        if self._failed is not None:
            await self._in_lane(self._writer.abandon)
            raise self._failed
        self.send_json(await self._in_lane(self._writer.finish))

    @web.authenticated
    @authorized
    async def delete(self, rel):
        self.send_json(await self.in_thread(uploads.remove, self.datashare, self.owner, rel))

    @web.authenticated
    @authorized
    async def get(self, rel):
        t = await self.in_thread(uploads.target, self.datashare, self.owner, rel, _int_arg(self, "size"),
                                 self.get_query_argument("sha256", ""), self.get_query_argument("upload", ""))  # fmt: skip
        state = await self.in_thread(uploads.state, t)
        if not state["complete"]:  # asked before a retry: a full disk says so here (a PUT's 507 may be lost)
            await self.in_thread(uploads.check_room, t, t.size - state["received"], self.settings["datashare_upload_keep_free"])
        self.send_json(state)
