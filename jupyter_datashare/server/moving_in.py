"""``api/moved-stores``, at the service only: an owner moves their local store in (core/move_in.py;
``jupyter datashare push-local`` sends the files first, then POSTs the bundle here), lists the
stores they moved in, and reads a moved store's old audit chain as it was (JSON lines)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from sqlalchemy import select
from tornado import web

from ..core import move_in
from ..core.db import reading
from ..core.models import MovedStore
from .base import OwnerAPIHandler

PAGE = 2000  # old events read (in a thread) and written per piece


class MovedStoresAPI(OwnerAPIHandler):
    auth_resource = "datashare:datasets"

    @web.authenticated
    @authorized
    async def post(self):
        body = self.json_body()
        done = await self.in_thread(move_in.move_in, self.datashare, self.owner, body, client=self.client)
        self.set_status(201)
        self.send_json(done)

    @web.authenticated
    @authorized
    async def get(self):
        self.send_json({"moved_stores": await self.in_thread(_listed, self.datashare, self.owner)})


def _listed(ctx, owner: str) -> list[dict]:
    with reading(ctx.engine) as s:
        rows = s.scalars(select(MovedStore).where(MovedStore.owner == owner).order_by(MovedStore.moved_at))
        return [{"id": m.id, "moved_at": m.moved_at.isoformat(), "datasets": m.datasets, "old_events": m.old_size,
                 "old_head_hash": m.old_head_hash, "event": m.event_seq} for m in rows]  # fmt: skip


class MovedStoreAuditAPI(OwnerAPIHandler):
    auth_resource = "datashare:audit"

    @web.authenticated
    @authorized
    async def get(self, store_id):
        lines = move_in.old_events(self.datashare, self.owner, store_id)
        first = await self.in_thread(_take, lines, PAGE)  # a NotFound before any header is sent
        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        while first:
            self.write("".join(first))
            await self.flush()
            first = await self.in_thread(_take, lines, PAGE)
        self.finish()


def _take(lines, n: int) -> list[str]:
    out = []
    for line in lines:
        out.append(line)
        if len(out) >= n:
            break
    return out
