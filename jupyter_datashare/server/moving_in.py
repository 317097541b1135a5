"""``api/moved-stores``, at the service only: an owner moves their local store in (core/move_in.py;
``jupyter datashare push-local`` sends the files first, then POSTs the bundle here), lists the
stores they moved in, and reads a moved store's old audit chain as it was (JSON lines)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core import move_in, old_chains
from .base import OwnerAPIHandler


class MovedStoresAPI(OwnerAPIHandler):
    auth_resource = "datashare:datasets"

    @web.authenticated
    @authorized
    async def post(self):
        owner = self.owner
        body = await self.in_thread(self.json_body)  # a whole store's rows: parsed off the event loop
        done = await self.in_thread(move_in.move_in, self.datashare, owner, body, client=self.client)
        self.send_json(done, 201)

    @web.authenticated
    @authorized
    async def get(self):
        self.send_json({"moved_stores": await self.in_thread(old_chains.listed, self.datashare, self.owner)})


class MovedStoreAuditAPI(OwnerAPIHandler):
    auth_resource = "datashare:audit"

    @web.authenticated
    @authorized
    async def get(self, store_id):
        await self.in_thread(old_chains.owned, self.datashare, self.owner, store_id)  # a 404 before any header
        self.set_header("Content-Type", "application/x-ndjson; charset=utf-8")
        after = 0
        while True:  # a page per short read: a slow reader holds no database session
            text, after = await self.in_thread(old_chains.lines, self.datashare, store_id, after)
            if not text:
                break
            self.write(text)
            await self.flush()
        self.finish()
