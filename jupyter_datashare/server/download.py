"""Streaming a file of a dataset: bounded memory, one byte range, the stored SHA-256 as ETag."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from ..core import reads


def content_disposition(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class DownloadMixin:
    """Serves what ``core.reads.open_file`` allowed; needs DataShareMixin beside it."""

    async def serve(self, dataset, principal, path: str, version: int | None = None) -> None:
        ctx = self.datashare
        range_header = self.request.headers.get("Range")
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
        for chunk in fr.chunks(self.settings.get("datashare_chunk_size", 1 << 20)):
            self.write(chunk)
            # Waits until the socket took the chunk: memory stays at about one chunk, and
            # other requests get their turn between chunks.
            await self.flush()
        self.finish()
