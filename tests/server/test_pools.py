"""The handlers' threads: a crowd on the public routes never takes the owner's threads, and past
its bound it is told 503 at once instead of queueing without end."""

import asyncio
import threading

import pytest

from jupyter_datashare.core.errors import Busy
from jupyter_datashare.server.pools import Pools


async def test_a_full_public_pool_leaves_the_owner_answered_and_refuses_more():
    pools, release = Pools(public=2, public_waiting=1, owner=1), threading.Event()
    try:
        crowd = [asyncio.ensure_future(pools.run("public", release.wait)) for _ in range(3)]  # 2 running, 1 waiting
        await asyncio.sleep(0.1)
        assert await asyncio.wait_for(pools.run("owner", lambda: "answered"), 10) == "answered"
        with pytest.raises(Busy) as refused:
            await pools.run("public", lambda: "never run")
        assert refused.value.status == 503 and refused.value.retry_after >= 1
        release.set()
        assert await asyncio.wait_for(asyncio.gather(*crowd), 10) == [True, True, True]
        assert await pools.run("public", lambda: "room again") == "room again"
    finally:
        release.set()
        pools.close()


async def test_an_error_in_the_work_reaches_the_caller_and_frees_its_place():
    pools = Pools(public=1, public_waiting=0, owner=1)
    try:
        for _ in range(3):
            with pytest.raises(ZeroDivisionError):
                await pools.run("public", lambda: 1 / 0)
        assert await pools.run("public", lambda: 42) == 42
    finally:
        pools.close()


async def test_a_request_arriving_while_the_server_stops_is_a_503_not_a_500():
    pools = Pools(public=1, public_waiting=0, owner=1)
    pools.close()
    for which in ("public", "owner"):
        with pytest.raises(Busy) as refused:
            await pools.run(which, lambda: "never run")
        assert refused.value.status == 503
