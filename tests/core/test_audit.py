import pytest

from jupyter_datashare.core import signing
from jupyter_datashare.core.audit import Event
from jupyter_datashare.core.errors import AuditUnavailable
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings
from tests import rawdb


def fill(ctx, n):
    return [ctx.audit.record(Event("file.downloaded", f"link:lnk-{i}", outcome="allowed", dataset_id="ds-x",
                                   file="a.csv", byte_range=f"0-{i}", client="10.0.0.1")) for i in range(n)]  # fmt: skip


def tamper(ctx, *statements):
    rawdb.execute(ctx, *statements)


def test_events_are_numbered_and_chained(core):
    assert fill(core, 5) == [1, 2, 3, 4, 5]
    report = core.audit.verify()
    assert report.ok and report.events == 5
    events = core.audit.events()
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert len({e["entry_hash"] for e in events}) == 5


def test_an_edited_event_is_named(core):
    fill(core, 6)
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=4")
    report = core.audit.verify()
    assert not report.ok and report.first_bad_event == 4 and "#4" in report.problem


def test_a_removed_event_is_named(core):
    fill(core, 6)
    tamper(core, "DELETE FROM audit_events WHERE seq=3")
    report = core.audit.verify()
    assert not report.ok and report.first_bad_event == 3 and "missing" in report.problem


def test_an_inserted_event_is_named(core):
    fill(core, 6)
    tamper(
        core,
        "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 3",
        "UPDATE audit_events SET seq = seq - 99 WHERE seq >= 103",
        "INSERT INTO audit_events (seq, ts, actor, action, outcome, entry_hash) "
        "VALUES (3, '2026-03-01T00:00:00Z', 'owner', 'link.revoked', 'ok', '00')",
    )
    report = core.audit.verify()
    assert not report.ok and report.first_bad_event == 3


def test_truncation_after_a_checkpoint_is_seen(core):
    fill(core, 6)
    core.audit.checkpoint()
    tamper(core, "DELETE FROM audit_events WHERE seq >= 5")
    report = core.audit.verify()
    assert not report.ok and report.first_bad_event == 5 and "truncated" in report.problem


def test_a_rewritten_log_is_caught_by_a_kept_checkpoint(core):
    fill(core, 4)
    kept = core.audit.checkpoint()
    fill(core, 2)
    # The attacker deletes the tail, the checkpoints and fixes the head row: the
    # database alone now looks consistent...
    tamper(
        core,
        "DELETE FROM audit_events WHERE seq >= 3",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_head SET size=2, checkpointed_size=0, head_hash=(SELECT entry_hash FROM audit_events WHERE seq=2)",
    )
    assert core.audit.verify().ok
    # ...but not against the checkpoint that was copied elsewhere.
    report = core.audit.verify(trusted_notes=[kept])
    assert not report.ok and report.first_bad_event == 3


def test_checkpoints_are_signed_notes(core):
    fill(core, 3)
    note = core.audit.checkpoint()
    cp = signing.open_checkpoint(note, core.audit.public_key)
    assert cp.size == 3 and cp.origin == core.audit.origin
    forged = note.replace("\n3\n", "\n2\n", 1)
    with pytest.raises(signing.BadNote):
        signing.open_checkpoint(forged, core.audit.public_key)


def test_checkpoint_every_n_events(tmp_path, clock, server_root):
    ctx = DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "d"), owner="o", checkpoint_every=10), clock)
    fill(ctx, 25)
    sizes = [r[0] for r in rawdb.rows(ctx, "SELECT size FROM audit_checkpoints ORDER BY size")]
    assert sizes == [10, 20]


def test_signing_key_is_private(core):
    import os
    import stat

    mode = stat.S_IMODE(os.stat(os.path.join(core.settings.data_dir, signing.KEY_FILE)).st_mode)
    assert mode == 0o600


def test_unwritable_log_refuses(tmp_path, clock, server_root):
    ctx = DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "d"), owner="o", db_busy_timeout_ms=50), clock)
    with rawdb.write_locked(ctx, wait_ms=None, exclusive=True):
        with pytest.raises(AuditUnavailable):
            ctx.audit.record(Event("file.downloaded", "x"))
    assert ctx.audit.events() == []


def test_export_formats(core):
    import csv
    import io
    import json

    fill(core, 3)
    lines = list(core.audit.export("jsonl"))
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3]
    rows = list(csv.DictReader(io.StringIO("".join(core.audit.export("csv")))))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[0]["byte_range"] == "0-0"
    with pytest.raises(ValueError):
        list(core.audit.export("xml"))


def test_export_takes_the_filters_of_the_event_list_across_pages(core, clock):
    from datetime import datetime, timezone

    from jupyter_datashare.core.audit import end_of

    with core.audit.transaction() as s:
        for i in range(7):
            core.audit.append(s, Event("file.downloaded" if i % 2 else "dataset.shared", "ada", dataset_id=f"ds-{i % 3}"))
    clock.advance(days=2)
    core.audit.record(Event("dataset.updated", "ada", dataset_id="ds-0"))
    filters = [{}, {"dataset_id": "ds-0"}, {"action": "file.downloaded"}, {"since": clock.now()},
               {"until": clock.now()}, {"dataset_id": "ds-0", "until": end_of("until", "2026-03-01")}]  # fmt: skip
    for f in filters:
        expected = [e["seq"] for e in core.audit.events(**f)]
        assert [e["seq"] for e in core.audit._iter_matching(**f, page=2)] == expected, f
    assert [e["seq"] for e in core.audit.events(dataset_id="ds-0")] == [1, 4, 7, 8]
    assert end_of("until", "2026-03-01") == datetime(2026, 3, 2, tzinfo=timezone.utc)  # the whole day
    assert end_of("until", "2026-03-01T10:00Z") == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert list(core.audit.export("csv", action="nothing.matches")) == [
        "seq,ts,actor,action,outcome,dataset_id,version,file,byte_range,reason,client,link_id,grant_id,details,entry_hash\r\n"
    ]


def test_verify_never_raises_a_false_alarm_while_others_write(tmp_path, clock, server_root):
    """Writers in this process and in "another process" (a second core on the same files) append
    and sign checkpoints while verify runs again and again; each verify sees one consistent log."""
    import threading
    import time

    settings = dict(root_dir=str(server_root), data_dir=str(tmp_path / "d"), owner="o", checkpoint_every=7)
    here, there = DataShare(Settings(**settings), clock), DataShare(Settings(**settings), clock)
    fill(here, 300)
    stop, errors = threading.Event(), []

    def write(ctx, n):
        try:
            while not stop.is_set():
                ctx.audit.record(Event("file.downloaded", f"link:lnk-w{n}", outcome="allowed", dataset_id="ds-x"))
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(ctx, n)) for n, ctx in enumerate((here, here, there, there))]
    for w in writers:
        w.start()
    try:
        # Mostly from the newest verified point, now and then from #1.
        reports = [here.audit.verify(full=i % 5 == 0) for i in range(50)]
        alarms = [r.problem for r in reports if not r.ok]
        assert alarms == [], f"{len(alarms)} of 50 false alarms, e.g. {alarms[0]}"
        assert len({r.events for r in reports}) > 10  # the log really grew while it was verified
        assert any(not r.full and r.from_size for r in reports)
        # A real tamper, made while the writers go on, is still found every time: after the
        # newest verified point by a check from there, before it by a full one.
        tail = reports[-1].events + 1
        while here.audit.events(limit=1, newest_first=True)[0]["seq"] <= tail:
            time.sleep(0.01)
        tamper(here, f"UPDATE audit_events SET client='192.168.0.9' WHERE seq IN (40, {tail})")
        for _ in range(5):
            report = here.audit.verify()
            assert not report.ok and report.first_bad_event == tail
            report = here.audit.verify(full=True)
            assert not report.ok and report.first_bad_event == 40
    finally:
        stop.set()
        for w in writers:
            w.join()
        here.close()
        there.close()
    assert errors == []


def test_concurrent_appends_share_commits_and_each_is_in_the_chain_once(core):
    """Group commit: 16 callers appending at once ride in shared commits (a caller whose event
    another commit carried returns at once, never queueing behind later commits), every event
    is in the one chain exactly once, and each caller learns its own sequence number."""
    import threading

    seqs, lock = [], threading.Lock()
    before = core.audit.commits
    start, threads, each = threading.Barrier(16), 16, 40

    def append(i):
        start.wait()
        for j in range(each):
            seq = core.audit.record(Event("file.downloaded", f"link:lnk-{i}", outcome="allowed", file=f"f{j}"))
            with lock:
                seqs.append((seq, f"link:lnk-{i}", f"f{j}"))

    workers = [threading.Thread(target=append, args=(i,)) for i in range(threads)]
    [w.start() for w in workers]
    [w.join() for w in workers]
    n = threads * each
    stored = {e["seq"]: (e["actor"], e["file"]) for e in core.audit.events(limit=n + 10)}
    assert sorted(s for s, _, _ in seqs) == sorted(stored) and len(stored) == n
    assert all(stored[s] == (actor, f) for s, actor, f in seqs)  # each caller got its own event's number
    assert core.audit.verify().ok
    commits = core.audit.commits - before
    assert 1 <= commits <= n / 3, f"{commits} commits for {n} events: appends hardly shared commits"


def test_an_event_prepared_before_the_lock_hashes_as_the_verifier_recomputes_it(core):
    """The append hashes each event's JSON made before the write lock, with its number and time
    put in; verify recomputes it whole. Details holding the same keys, quotes, non-ASCII text and
    a version must neither move the number nor change a byte."""
    from jupyter_datashare.core.audit import Prepared, canonical

    tricky = Event("file.downloaded", 'link:"seq":0,"ts":"",', outcome="allowed", dataset_id="ds-x", version=7,
                   file='a "quoted", "seq":0,"ts":"","version": ü.csv', reason="naïve ✓",
                   details={"seq": 0, "ts": "", "version": 3, "nested": {"seq": 1}})  # fmt: skip
    for event in (tricky, Event("dataset.shared", "ada"), Event("x", "y", details={"seq": 0, "ts": "", "version": None})):
        prepared = Prepared(event)
        row = prepared.row | {"seq": 41, "ts": "2026-12-01T10:00:00.000001Z"}
        assert prepared.canonical(41, "2026-12-01T10:00:00.000001Z") == canonical(row)
    seqs = [core.audit.record(tricky), core.audit.record(tricky)]
    stored = core.audit.events()[-1]
    assert stored["seq"] == seqs[-1] and stored["details"] == tricky.details and stored["file"] == tricky.file
    assert core.audit.verify().ok


def test_the_panel_s_audit_filter_offers_every_action_the_server_writes():
    import pathlib
    import re

    package = pathlib.Path(__file__).parents[2] / "jupyter_datashare"
    written = set(re.findall(r'Event\(\s*"([a-z_]+\.[a-z_]+)"', "".join(p.read_text() for p in package.rglob("*.py"))))
    vocab = (package.parent / "labextension" / "src" / "vocab.ts").read_text()
    block = vocab[vocab.index("export const AUDIT_ACTIONS") :]
    offered = set(re.findall(r"'([a-z_]+\.[a-z_]+)'", block[: block.index("];")]))
    assert "store.moved_in" in written and written - offered == set()


# -- verifying from the newest verified point ---------------------------------------------------


def test_verify_starts_where_the_last_one_ended_and_says_so(core):
    fill(core, 10)
    first = core.audit.verify()
    assert first.ok and first.full and (first.from_size, first.checked, first.events) == (0, 10, 10)
    fill(core, 5)
    second = core.audit.verify()
    assert second.ok and not second.full and second.from_kind == "verification"
    assert (second.from_size, second.checked, second.events) == (10, 5, 15)
    assert second.from_time and second.to_dict()["from_size"] == 10
    assert core.audit.verify(full=True).checked == 15


def _swap(seq):
    """Swap events #seq and #seq+1, each keeping its own hash (seq is unique: in three steps)."""
    return [f"UPDATE audit_events SET seq = -1 WHERE seq = {seq}",
            f"UPDATE audit_events SET seq = {seq} WHERE seq = {seq + 1}",
            f"UPDATE audit_events SET seq = {seq + 1} WHERE seq = -1"]  # fmt: skip


@pytest.mark.parametrize("change", [
    ["UPDATE audit_events SET client='192.168.0.9' WHERE seq=12"],
    ["DELETE FROM audit_events WHERE seq=12"],
    _swap(12),
    ["UPDATE audit_events SET client='192.168.0.9' WHERE seq=10"],  # the verified point's own event
])  # fmt: skip
def test_a_change_after_the_verified_point_is_caught_without_full(core, change):
    fill(core, 10)
    assert core.audit.verify().ok
    fill(core, 5)
    tamper(core, *change)
    report = core.audit.verify()
    assert not report.ok and not report.full and report.from_size == 10
    assert report.first_bad_event == (10 if "seq=10" in change[0] else 12)


def test_a_change_before_the_verified_point_is_only_seen_by_a_full_check(core):
    fill(core, 10)
    assert core.audit.verify().ok
    fill(core, 2)
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=3")
    quick = core.audit.verify()
    assert quick.ok and (quick.from_size, quick.checked) == (10, 2)  # not looked at again
    report = core.audit.verify(full=True)
    assert not report.ok and report.full and report.first_bad_event == 3


def test_a_forged_mark_does_not_let_a_tampered_log_pass(core):
    fill(core, 10)
    # Never verified: the attacker edits an event, then claims the log was verified up to #10.
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=3",
           "INSERT INTO audit_verified (size, head_hash, verified_at, from_size, mac) VALUES "
           f"(10, (SELECT entry_hash FROM audit_events WHERE seq=10), '2026-03-01T12:00:00Z', 0, '{'0' * 64}')")  # fmt: skip
    report = core.audit.verify()
    assert not report.ok and report.full and report.first_bad_event == 3 and report.forged_marks == [10]


def test_an_edited_mark_makes_the_check_start_from_the_first_event(core):
    fill(core, 10)
    assert core.audit.verify().ok
    fill(core, 5)
    # Edit #12, then move the (authentic) mark past it, its MAC copied along.
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=12",
           "UPDATE audit_verified SET size=15, head_hash=(SELECT entry_hash FROM audit_events WHERE seq=15)")  # fmt: skip
    report = core.audit.verify()
    assert not report.ok and report.full and report.first_bad_event == 12
    # Put right, the log still does not pass while the forged mark is there: it proves a write
    # to the database past the software.
    tamper(core, "UPDATE audit_events SET client='10.0.0.1' WHERE seq=12")
    report = core.audit.verify()
    assert not report.ok and "not authentic" in report.problem and report.forged_marks == [15]
    tamper(core, "DELETE FROM audit_verified WHERE size=15")
    assert core.audit.verify().ok


@pytest.mark.parametrize("cut_to, checkpoint_at", [(7, None), (12, 15)])
def test_a_truncation_after_the_verified_point_is_caught(core, cut_to, checkpoint_at):
    fill(core, 10)
    assert core.audit.verify().ok
    fill(core, 5)
    if checkpoint_at:
        core.audit.checkpoint()
    # The attacker cuts the log and fixes the head row (the checkpoints stay: they are signed).
    tamper(core, f"DELETE FROM audit_events WHERE seq > {cut_to}",
           f"UPDATE audit_head SET size={cut_to}, head_hash=(SELECT entry_hash FROM audit_events WHERE seq={cut_to})")  # fmt: skip
    report = core.audit.verify()
    assert not report.ok and "truncated" in report.problem and report.first_bad_event == cut_to + 1


def test_a_trusted_note_is_a_starting_point(core):
    fill(core, 10)
    note = core.audit.checkpoint()
    fill(core, 3)
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=4")  # before the note
    report = core.audit.verify(trusted_notes=[note])
    assert report.ok and (report.from_size, report.from_kind, report.checked) == (10, "trusted checkpoint", 3)
    assert report.from_time == signing.open_checkpoint(note, core.audit.public_key).time
    assert core.audit.verify(trusted_notes=[note], full=True).first_bad_event == 4
    # After it (the marks left by those checks deleted too: the note is the newest start again).
    tamper(core, "UPDATE audit_events SET client='192.168.0.9' WHERE seq=12", "DELETE FROM audit_verified")
    report = core.audit.verify(trusted_notes=[note])
    assert not report.ok and report.first_bad_event == 12


def test_a_trusted_note_the_log_contradicts_at_its_size_fails(core):
    fill(core, 10)
    note = core.audit.checkpoint()
    # A rewrite from #6 on, chained anew (hashes recomputed), the stored checkpoints dropped.
    tamper(core, "DELETE FROM audit_checkpoints", "DELETE FROM audit_events WHERE seq > 5",
           "UPDATE audit_head SET size=5, checkpointed_size=0, head_hash=(SELECT entry_hash FROM audit_events WHERE seq=5)")  # fmt: skip
    fill(core, 5)
    report = core.audit.verify(trusted_notes=[note])
    assert not report.ok and "differ from the trusted checkpoint" in report.problem


def test_pages_of_a_callers_own_datasets_follow_the_cursor_in_either_order(core):
    for i in range(40):
        core.audit.record(Event("file.downloaded" if i % 4 else "link.created", "ada", dataset_id=f"ds-{i % 5}"))
    mine = {"ds-1", "ds-3", "ds-4"}
    everything = core.audit.events()
    for newest_first, cursor in ((True, "before"), (False, "after")):
        for action in (None, "link.created"):
            want = [e["seq"] for e in everything if e["dataset_id"] in mine and action in (None, e["action"])]
            got, at = [], None
            while True:
                page = core.audit.events(within=mine, action=action, limit=4, newest_first=newest_first,
                                         **({cursor: at} if at else {}))  # fmt: skip
                got += [e["seq"] for e in page]
                if len(page) < 4:
                    break
                at = page[-1]["seq"]
            assert got == (want[::-1] if newest_first else want)
    assert core.audit.events(within=mine, limit=3, offset=2, newest_first=True) == \
        [e for e in everything if e["dataset_id"] in mine][::-1][2:5]
    assert core.audit.events(within=set(), limit=3) == []
