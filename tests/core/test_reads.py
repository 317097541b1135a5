import subprocess
import sys
import textwrap
import threading

import pytest

from jupyter_datashare.core import datasets, keyring, links, policy, reads
from jupyter_datashare.core.errors import AccessDenied, NotFound, RangeNotSatisfiable, RateLimited
from jupyter_datashare.core.service import DataShare


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, (0, 99, False)),
        ("bytes=0-9", (0, 9, True)),
        ("bytes=90-", (90, 99, True)),
        ("bytes=-10", (90, 99, True)),
        ("bytes=95-200", (95, 99, True)),
        ("bytes=-500", (0, 99, True)),
    ],
)
def test_single_ranges(header, expected):
    assert reads.parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=100-", "bytes=5-2", "items=0-1", "bytes=-0", "bytes=-"])
def test_bad_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        reads.parse_range(header, 100)


@pytest.fixture
def shared(core, server_root):
    (server_root / "d").mkdir()
    (server_root / "d" / "t.csv").write_text("a,b\n1,2\n")
    return datasets.share(core, "ada-owner", {"path": "d", "title": "T", "access": {"level": "restricted"}, "committee": {"members": ["bob"]}})


def test_denied_reads_are_audited_and_raise(core, shared):
    ds = datasets.load(core, shared)
    with pytest.raises(AccessDenied):
        reads.open_file(core, ds, policy.Principal("public", "public"), "t.csv", client="10.1.1.1")
    last = core.audit.events(newest_first=True, limit=1)[0]
    assert (last["action"], last["outcome"], last["client"], last["file"]) == ("file.denied", "denied", "10.1.1.1", "t.csv")


def test_allowed_read_is_audited_before_bytes(core, shared):
    row, secret = links.create(core, "ada-owner", shared, {"allow_restricted": True})
    link, ds, _ = links.resolve(core, secret, "10.2.2.2")
    fr = reads.open_file(core, ds, links.principal(link), "t.csv", range_header="bytes=0-2", client="10.2.2.2")
    # The event exists before a single byte has been produced.
    last = core.audit.events(newest_first=True, limit=1)[0]
    assert (last["action"], last["byte_range"], last["link_id"]) == ("file.downloaded", "0-2", row.id)
    assert b"".join(fr.chunks()) == b"a,b"


def test_concurrent_downloads_through_a_link_share_commits_and_are_each_counted(core, shared):
    """Group commit for downloads: each download's event is durable before its bytes, concurrent
    ones ride in shared commits, and the link's use count moves once per download."""
    from sqlalchemy import event

    row, secret = links.create(core, "ada-owner", shared, {"allow_restricted": True})
    link, ds, _ = links.resolve(core, secret, "10.2.2.2")
    commits = []
    event.listen(core.engine, "commit", lambda conn: commits.append(1))
    start, n = threading.Barrier(16), 16 * 8
    seen_before_bytes = []

    def download(i):
        start.wait()
        for j in range(8):
            fr = reads.open_file(core, ds, links.principal(link), "t.csv", client=f"10.3.{i}.{j}")
            clients = {e["client"] for e in core.audit.events(newest_first=True, limit=400)}
            seen_before_bytes.append(f"10.3.{i}.{j}" in clients)
            assert b"".join(fr.chunks()) == b"a,b\n1,2\n"

    threads = [threading.Thread(target=download, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(seen_before_bytes) == n and all(seen_before_bytes)
    listed = {r.id: r for r in links.list_for(core, "ada-owner", shared)}
    assert listed[row.id].use_count == n and listed[row.id].last_used_at is not None
    downloaded = [e for e in core.audit.events(limit=1000) if e["action"] == "file.downloaded"]
    assert len(downloaded) == n and core.audit.verify().ok
    assert len(commits) < n  # some downloads shared a commit


def test_path_must_be_in_the_manifest(core, shared):
    ds = datasets.load(core, shared)
    owner = policy.Principal("owner", "ada-owner")
    for path in ["../d/t.csv", "/etc/passwd", "d/t.csv", "", "T.CSV"]:
        with pytest.raises(NotFound):
            reads.open_file(core, ds, owner, path)


def test_repeated_denials_are_counted_not_each_written(core, shared):
    ds = datasets.load(core, shared)
    public = policy.Principal("public", "public")
    before = len(core.audit.events())
    for _ in range(20):  # under the limit (3 x 10 failed look-ups by default)
        with pytest.raises(AccessDenied):
            reads.open_file(core, ds, public, "t.csv", client="2001:db8:7::1")
    with pytest.raises(AccessDenied):  # the same /64 is the same client
        reads.open_file(core, ds, public, "t.csv", client="2001:db8:7::2")
    denied = core.audit.events(action="file.denied")
    assert len(core.audit.events()) == before + 1 and denied[0]["client"] == "2001:db8:7::1"
    core.close()  # the server stops: what the window held back is written, nothing is lost
    denied = core.audit.events(action="file.denied")
    assert [e["details"] for e in denied] == [None, {"repeats": 20}]
    assert denied[1]["client"] == "2001:db8:7::/64" and core.audit.verify().ok


def deny(ctx, dataset_id, times, client="198.51.100.9"):
    ds = datasets.load(ctx, dataset_id)
    for _ in range(times):
        with pytest.raises((AccessDenied, RateLimited)):  # over the denial limit: refused, still counted
            reads.open_file(ctx, ds, policy.Principal("public", "public"), "t.csv", client=client)


def test_repeated_denials_through_two_processes_collapse_into_one_count(core, second, shared):
    for _ in range(50):  # one client spreads its attempts over both processes (behind a proxy)
        for ctx in (core, second):
            deny(ctx, shared, 1)
    assert len(core.audit.events(action="file.denied")) == 1  # one fsync'd event, not one per process
    core.close()  # either process stopping records what both counted: nothing lost, nothing twice
    second.close()
    denied = core.audit.events(action="file.denied")
    assert [e["details"] for e in denied] == [None, {"repeats": 99}]  # 1 + 99: every attempt
    assert core.audit.verify().ok


@pytest.fixture
def generous(core, second):
    for ctx in (core, second):  # no refusals: every denial goes through the counting path
        ctx.denied_reads.per_client = 10**6


def test_concurrent_denials_in_two_processes_are_each_counted_once(core, second, shared, generous):
    start, errors = threading.Barrier(8), []

    def work(ctx):
        try:
            start.wait()
            deny(ctx, shared, 25)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(ctx,)) for ctx in (core, second) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    recorded = core.audit.events(action="file.denied")
    assert len(recorded) == 1  # decided under the audit write lock: one record, whoever came first
    core.close()
    second.close()
    denied = core.audit.events(action="file.denied")
    assert denied[0] == recorded[0] and len(denied) <= 3  # and at most one shutdown record per process
    assert 1 + sum((e["details"] or {}).get("repeats", 0) for e in denied) == 8 * 25


KILLED_AFTER_DENIALS = textwrap.dedent("""
    import os, signal, sys
    from jupyter_datashare.core import datasets, policy, reads
    from jupyter_datashare.core.clock import ManualClock
    from jupyter_datashare.core.errors import AccessDenied, RateLimited
    from jupyter_datashare.core.service import DataShare
    from jupyter_datashare.core.settings import Settings
    from datetime import datetime

    root, data, db_url, dataset_id, now = sys.argv[1:6]
    core = DataShare(Settings(root_dir=root, data_dir=data, db_url=db_url, owner="ada-owner"),
                     ManualClock(datetime.fromisoformat(now)))  # the test's clock
    ds = datasets.load(core, dataset_id)
    for _ in range(40):
        try:
            reads.open_file(core, ds, policy.Principal("public", "public"), "t.csv", client="198.51.100.9")
        except (AccessDenied, RateLimited):
            pass
    os.kill(os.getpid(), signal.SIGKILL)  # no shutdown: whatever it kept only in memory is gone
""")


def test_repeats_counted_by_a_killed_process_are_in_the_next_record(core, shared, clock, server_root):
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_DENIALS, str(server_root), core.settings.data_dir,
                           core.settings.db_url, shared, clock.now().isoformat()], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == -9, proc.stderr
    assert [e["details"] for e in core.audit.events(action="file.denied")] == [None]
    clock.advance(seconds=core.settings.failed_lookups_client_window + 1)
    deny(core, shared, 1)  # the same denial, a window later, in the surviving process
    assert [e["details"] for e in core.audit.events(action="file.denied")] == [None, {"repeats": 39}]


def test_in_process_denials_are_each_recorded(core, shared):
    ds = datasets.load(core, shared)
    for _ in range(3):  # the notebook and the CLI: no address, no flood to bound
        with pytest.raises(AccessDenied):
            reads.open_file(core, ds, policy.Principal("public", "public"), "t.csv")
    assert len(core.audit.events(action="file.denied")) == 3


# -- a read racing a seal in another process ------------------------------------------------------


@pytest.fixture
def second(core, clock):
    """Another process's core on the same database and store (its own engine and pools)."""
    other = DataShare(core.settings, clock)
    yield other
    other.close()


@pytest.fixture
def open_file_shared(core, server_root):
    (server_root / "o").mkdir()
    (server_root / "o" / "t.csv").write_bytes(CONTENT)
    return datasets.share(core, "ada-owner", {"path": "o", "title": "Open"})


CONTENT = b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(5000))
OWNER_P = policy.Principal("owner", "ada-owner")


def test_a_seal_between_deciding_plain_and_opening_falls_back_to_the_encrypted_copy(
        core, second, open_file_shared, monkeypatch):  # fmt: skip
    real, sealed = reads._manifest_entry, []

    def then_another_process_seals(ctx, dataset_id, number, path):
        entry = real(ctx, dataset_id, number, path)  # with its dataset's key row: none, so "plain"
        if entry.key_of is None and not sealed:  # ... and right now the other process seals
            sealed.append(keyring.seal(second, dataset_id))
            assert not core.store.has(entry.sha256)  # the plain blob is gone
        return entry

    monkeypatch.setattr(reads, "_manifest_entry", then_another_process_seals)
    fr = reads.open_file(core, datasets.load(core, open_file_shared), OWNER_P, "t.csv")
    assert sealed and fr.encrypted
    assert b"".join(fr.chunks(4096)) == CONTENT


def test_a_seal_after_the_read_was_decided_still_serves_the_plain_bytes(core, second, open_file_shared):
    ds = datasets.load(core, open_file_shared)
    reads_decided = [reads.open_file(core, ds, OWNER_P, "t.csv", range_header=r) for r in (None, "bytes=9-", None)]
    assert not any(fr.encrypted for fr in reads_decided)
    keyring.seal(second, open_file_shared)  # removes the plain blob before any byte was read
    assert not core.store.has(reads_decided[0].sha256)
    assert b"".join(reads_decided[0].chunks(4096)) == CONTENT  # the chunked path
    with reads_decided[1].open() as f:  # the zero-copy path: a file positioned at the range
        assert f.read() == CONTENT[9:]
    del reads_decided  # a read never used (a HEAD, a 304) closes its file when dropped
    fr = reads.open_file(core, ds, OWNER_P, "t.csv")  # later reads use the encrypted copy
    assert fr.encrypted and b"".join(fr.chunks()) == CONTENT
