"""The audit events of concurrent downloads: each is durable before its download's first byte,
and downloads arriving together share durable commits instead of one fsync'd commit each."""

import asyncio

from sqlalchemy import func, select

from jupyter_datashare.core.db import make_engine
from jupyter_datashare.core.models import AuditEvent
from tests.conftest import link_for, path_of
from tests.server.test_senders import Reader, url


async def test_concurrent_downloads_share_commits_and_each_event_is_durable_before_its_bytes(
    call, share, ctx, jp_http_port, jp_base_url
):
    d = await share(files={"data/small.txt": "x" * 5000}, access={"level": "reviewer-only"})
    link = await link_for(call, d["id"])
    target = url(jp_base_url, path_of(link["url"]) + ["files", "small.txt"])
    before = ctx.audit.commits
    readers = [Reader(jp_http_port, target) for _ in range(16)]
    await asyncio.gather(*(r.start() for r in readers))  # every head has arrived, no body read yet
    assert {r.status for r in readers} == {200}
    # Another connection to the database (as after a crash of this process) sees all 16 events.
    other = make_engine(ctx.settings.db_url)
    try:
        with other.connect() as conn:
            q = select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "file.downloaded", AuditEvent.link_id == link["id"])
            assert conn.scalar(q) == 16
    finally:
        other.dispose()
    commits = ctx.audit.commits - before
    assert 1 <= commits < 16, f"{commits} commits for 16 downloads arriving together: no commit was shared"
    for r in readers:
        assert await r.rest() == b"x" * 5000
