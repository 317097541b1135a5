"""The threads that do the handlers' blocking work (database, disk, fsync'd commits).

Two bounded pools, so that a crowd of readers of public pages and downloads never makes the
researcher's own API calls (the panel, the notebook) wait for a thread. A public request that
finds ``public_waiting`` others already waiting is answered 503 with Retry-After at once.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from ..core.errors import Busy


class Pools:
    def __init__(self, public: int, public_waiting: int, owner: int):
        self.public = ThreadPoolExecutor(max(1, public), thread_name_prefix="datashare-public")
        self.owner = ThreadPoolExecutor(max(1, owner), thread_name_prefix="datashare-owner")
        self._limit = max(1, public) + max(0, public_waiting)
        self._in_public = 0  # running or waiting
        self._lock = threading.Lock()

    async def run(self, which: str, fn):
        if which != "public":
            return await _submit(self.owner, fn)
        with self._lock:
            if self._in_public >= self._limit:
                raise Busy("the server is answering as many requests as it can: try again shortly", retry_after=1)
            self._in_public += 1
        try:
            return await _submit(self.public, fn)
        finally:
            with self._lock:
                self._in_public -= 1

    def close(self) -> None:
        self.public.shutdown(wait=False, cancel_futures=True)
        self.owner.shutdown(wait=False, cancel_futures=True)


async def _submit(pool: ThreadPoolExecutor, fn):
    try:
        future = asyncio.get_running_loop().run_in_executor(pool, fn)
    except RuntimeError:  # the pool was shut down: the server is stopping, requests still arrive
        raise Busy("the server is stopping: try again shortly", retry_after=5) from None
    return await future
