"""Writers at once: many threads of one core and of a second core on the same database (as two
processes would be) share, version, link and record downloads together. On PostgreSQL this
is what the advisory write lock is for; on SQLite, BEGIN IMMEDIATE."""

import threading

import time

import pytest

from jupyter_datashare.core import datasets, links
from jupyter_datashare.core.audit import Event
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

from .. import rawdb
from ..conftest import ON_POSTGRES, OWNER


def test_concurrent_writers_in_two_cores_leave_one_valid_chain(tmp_path, clock, server_root):
    (server_root / "study").mkdir()
    (server_root / "study" / "a.csv").write_text("x,y\n1,2\n")
    settings = dict(root_dir=str(server_root), data_dir=str(tmp_path / "d"), owner=OWNER, checkpoint_every=5)
    here, there = DataShare(Settings(**settings), clock), DataShare(Settings(**settings), clock)
    base = datasets.share(here, OWNER, {"path": "study", "title": "Base", "access": {"level": "reviewer-only"}})
    errors, made, start = [], [], threading.Barrier(8)
    rounds = 6

    def work(ctx, kind, n):
        try:
            start.wait()
            for i in range(rounds):
                if kind == "share":
                    made.append(datasets.share(ctx, OWNER, {"path": "study", "title": f"T{n}-{i}"}))
                elif kind == "link":
                    links.create(ctx, OWNER, base, {"label": f"L{n}-{i}"})
                elif kind == "update":
                    datasets.update(ctx, OWNER, base, {"description": f"round {n}-{i}"})
                else:
                    for _ in range(5):
                        ctx.audit.record(Event("file.downloaded", f"link:lnk-{n}", outcome="allowed", dataset_id=base))
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(repr(exc))

    kinds = ("share", "link", "update", "record")
    threads = [threading.Thread(target=work, args=(ctx, kind, n))
               for n, (ctx, kind) in enumerate((c, k) for c in (here, there) for k in kinds)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        report = here.audit.verify()
        assert report.ok, report.problem
        events = here.audit.events()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        actions = [e["action"] for e in events]
        assert actions.count("dataset.shared") == 1 + 2 * rounds == len(made) + 1
        assert actions.count("link.created") == 2 * rounds
        assert actions.count("file.downloaded") == 2 * rounds * 5
        assert len(links.list_for(there, OWNER, base)) == 2 * rounds
    finally:
        here.close()
        there.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: its server ends connections the pool still holds")
def test_connections_ended_by_the_server_are_replaced_before_the_next_request(core, server_root):
    """A database restart, or a proxy dropping idle connections, ends the pool's connections
    under it: the next call of the core (a read, a write, a rate-limit count) still works."""
    (server_root / "study").mkdir()
    (server_root / "study" / "a.csv").write_text("x,y\n1,2\n")
    ds_id = datasets.share(core, OWNER, {"path": "study", "title": "Before", "access": {"level": "reviewer-only"}})
    core.limiter.check_client("192.0.2.1")  # the counting pool holds a connection too
    pooled = core.engine.pool.checkedin()
    assert pooled >= 1
    ended = rawdb.rows(core, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
    assert len(ended) >= pooled and all(ok for (ok,) in ended)
    for _ in range(100):  # ended, as after a restart: the backends are gone before the next request
        if not rawdb.rows(core, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"):  # fmt: skip
            break
        time.sleep(0.05)
    assert core.audit.record(Event("file.downloaded", "link:lnk-x", dataset_id=ds_id)) > 0  # a read's own commit
    assert datasets.load(core, ds_id).title == "Before"  # a read
    datasets.update(core, OWNER, ds_id, {"title": "After"})  # a write, with its audit event
    core.limiter.failure("192.0.2.1")
    assert datasets.load(core, ds_id).title == "After" and core.audit.verify().ok
