"""Checking a share before freezing it, and the background jobs that freeze (core, no server)."""

import os
import threading

import pytest

from jupyter_datashare.core import datasets
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.errors import InvalidInput, NotFound
from jupyter_datashare.core.jobs import DONE, FAILED, RUNNING, Jobs, JobsBusy
from jupyter_datashare.core.models import Dataset
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings
from jupyter_datashare.core.store import COPY_CHUNK
from tests import rawdb
from tests.conftest import sqlite_only

OWNER = "ada-owner"


def count_datasets(core) -> int:
    with reading(core.engine) as s:
        return s.query(Dataset).count()


def nothing_stored(core) -> bool:
    return (count_datasets(core) == 0 and core.audit.events() == [] and list(core.store.tmp.iterdir()) == []
            and list(core.store.encrypted.iterdir()) == [])  # fmt: skip


@pytest.fixture
def study(server_root):
    folder = server_root / "study"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(2 * COPY_CHUNK + 1234))
    (folder / "notes.txt").write_text("how the data was made\n")
    return folder


def test_checking_a_share_stores_nothing_and_counts_what_will_be_frozen(core, study):
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T"})
    assert plan.files_total == 2 and plan.bytes_total == 2 * COPY_CHUNK + 1234 + 22
    assert nothing_stored(core)
    chunks, files = [], []
    dataset_id = datasets.freeze_and_share(core, plan, progress=chunks.append, file_done=lambda: files.append(1))
    assert len(chunks) > 3 and sum(chunks) == plan.bytes_total and len(files) == 2
    assert datasets.load(core, dataset_id).versions[0].total_size == plan.bytes_total
    assert [e["action"] for e in core.audit.events()] == ["dataset.shared"]


def test_every_field_is_checked_before_anything_is_frozen(core, study):
    for body, field in [({"preview_rows_public": "yes"}, "preview_rows_public"), ({"privacy": 1}, "privacy"),
                        ({"committee": {"members": []}, "access": {"level": "restricted"}}, "committee.members")]:  # fmt: skip
        with pytest.raises(InvalidInput) as info:
            datasets.check_share(core, OWNER, {"path": "study", "title": "T", **body})
        assert info.value.field == field
    assert nothing_stored(core) and list(core.store.blobs.iterdir()) == []


def test_a_file_removed_after_the_check_fails_the_freeze_and_shares_nothing(core, study):
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T", "access": {"level": "reviewer-only"}})
    (study / "notes.txt").unlink()
    with pytest.raises(InvalidInput) as info:
        datasets.freeze_and_share(core, plan)
    assert info.value.field == "path" and "'notes.txt'" in info.value.message
    assert nothing_stored(core)


def test_a_file_swapped_for_a_link_after_the_check_is_not_followed(core, study, tmp_path):
    secret = tmp_path / "outside-the-root.txt"
    secret.write_text("not yours to share")
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T"})
    (study / "notes.txt").unlink()
    (study / "notes.txt").symlink_to(secret)
    with pytest.raises(InvalidInput) as info:
        datasets.freeze_and_share(core, plan)
    assert info.value.field == "path"
    assert count_datasets(core) == 0 and core.audit.events() == []


def test_a_new_version_is_checked_before_it_is_frozen(core, study):
    dataset_id = datasets.share(core, OWNER, {"path": "study", "title": "T"})
    (study / "extra.csv").write_text("a,b\n1,2\n")
    plan = datasets.check_new_version(core, OWNER, dataset_id)
    assert plan.files_total == 3
    datasets.withdraw(core, OWNER, dataset_id)
    with pytest.raises(InvalidInput) as info:  # withdrawn while it would have been freezing
        datasets.freeze_new_version(core, plan)
    assert info.value.field == "id"
    assert "version.published" not in [e["action"] for e in core.audit.events()]
    with pytest.raises(InvalidInput):
        datasets.check_new_version(core, OWNER, dataset_id)


def wait(job, timeout=10):
    for _ in range(int(timeout / 0.01)):
        if job.state != "running":
            return job
        threading.Event().wait(0.01)
    raise AssertionError("the job did not finish")


def test_a_job_runs_the_freeze_and_only_its_user_sees_it(core, study):
    jobs = Jobs(core.engine, core.clock)
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T"})
    job = jobs.start("share", "user:ada", files_total=plan.files_total, bytes_total=plan.bytes_total,
                     work=lambda j: datasets.freeze_and_share(core, plan, progress=j.add_bytes, file_done=j.file_done))  # fmt: skip
    assert jobs.get("user:ada", job.id) is job
    with pytest.raises(NotFound):
        jobs.get("user:bob", job.id)
    wait(job)
    view = job.view()
    assert view["state"] == DONE and view["bytes_done"] == view["bytes_total"] == plan.bytes_total
    assert view["files_done"] == view["files_total"] == 2 and view["finished"]
    assert count_datasets(core) == 1 and job.result.startswith("ds-")
    jobs.close()


def test_finished_jobs_are_forgotten_after_a_while(core):
    now = [100.0]
    jobs = Jobs(core.engine, core.clock, keep_seconds=60, timer=lambda: now[0])
    job = jobs.start("share", "user:ada", files_total=0, bytes_total=0, work=lambda j: "done")
    wait(job)
    now[0] += 59
    assert jobs.get("user:ada", job.id).state == DONE and len(jobs) == 1
    now[0] += 2
    with pytest.raises(NotFound):
        jobs.get("user:ada", job.id)
    assert len(jobs) == 0
    jobs.close()


def test_a_cancelled_job_stops_and_shares_nothing(core, study):
    jobs = Jobs(core.engine, core.clock, threads=1)
    release = threading.Event()
    blocker = jobs.start("share", "user:ada", files_total=0, bytes_total=0, work=lambda j: release.wait(10))
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T", "access": {"level": "reviewer-only"}})
    job = jobs.start("share", "user:ada", files_total=2, bytes_total=plan.bytes_total,
                     work=lambda j: datasets.freeze_and_share(core, plan, progress=j.add_bytes, file_done=j.file_done))  # fmt: skip
    job.cancel()  # while it waits for the only thread
    release.set()
    wait(blocker), wait(job)
    assert job.state == FAILED and job.error["status"] == 409 and "nothing was shared" in job.error["message"]
    assert nothing_stored(core)
    jobs.close()


def test_an_unexpected_error_fails_the_job_without_leaking_details(core, caplog):
    jobs = Jobs(core.engine, core.clock)

    def disk_full(job):
        raise OSError(28, "No space left on device", "/var/lib/secret/path")

    job = wait(jobs.start("version", "user:ada", files_total=1, bytes_total=1, work=disk_full))
    assert job.error == {"error": "ServerError", "field": None, "status": 500,
                         "message": "freezing failed on the server (No space left on device); no version was published"}  # fmt: skip
    assert "version job" in caplog.text  # the details are in the server's log
    jobs.close()


# -- several server processes on one database ------------------------------------------------


@pytest.fixture
def other(core, tmp_path, clock, server_root):
    """A second core on the same data folder and database, as a second server process has."""
    ds = DataShare(Settings(root_dir=str(server_root), data_dir=str(tmp_path / "data"), owner=OWNER,
                            owner_identities=(OWNER,)), clock)  # fmt: skip
    assert ds.settings.db_url == core.settings.db_url
    yield ds
    ds.close()


def seen(jobs, job_id, until, user="user:ada", timeout=10):
    """The job as ``jobs`` (another process) reads it, once ``until`` holds."""
    for _ in range(int(timeout / 0.01)):
        job = jobs.get(user, job_id)
        if until(job):
            return job
        threading.Event().wait(0.01)
    raise AssertionError(f"never got there: {job.view()}")


def paused_share(core, plan, gate):
    """A real freeze that stops after its first chunk until ``gate`` opens."""

    def work(job):
        def progress(n):
            job.add_bytes(n)
            gate.wait(10)

        dataset_id = datasets.freeze_and_share(core, plan, progress=progress, file_done=job.file_done,
                                               committee_links=job.secrets)  # fmt: skip
        return {"dataset_id": dataset_id, "version": 1}

    return work


def test_a_job_run_by_one_process_is_seen_with_its_progress_by_another(core, other, study):
    here, there = Jobs(core.engine, core.clock, report_seconds=0.02), Jobs(other.engine, other.clock)
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T"})
    gate = threading.Event()
    job = here.start("share", "user:ada", files_total=plan.files_total, bytes_total=plan.bytes_total,
                     work=paused_share(core, plan, gate))  # fmt: skip
    far = seen(there, job.id, lambda j: j.bytes_done > 0)
    assert not far.here and far.state == RUNNING and far.bytes_done == COPY_CHUNK and far.files_done == 0
    assert far.view() | {"bytes_done": 0} == job.view() | {"bytes_done": 0}  # the same job, as its row has it
    for user, job_id in [("user:bob", job.id), ("user:ada", "job-unknown")]:
        with pytest.raises(NotFound) as info:  # another user's job is no job at all
            there.get(user, job_id)
        assert info.value.message == f"no job '{job_id}'"
    gate.set()
    done = seen(there, job.id, lambda j: j.state != RUNNING)
    assert done.state == DONE and done.error is None and done.finished == job.finished
    assert done.bytes_done == done.bytes_total == plan.bytes_total and done.files_done == 2
    assert done.result == job.result and count_datasets(other) == 1
    assert len(there) == len(here) == 1
    here.close(), there.close()


def test_cancelling_through_another_process_stops_the_job_and_shares_nothing(core, other, study):
    here, there = Jobs(core.engine, core.clock, report_seconds=0.02), Jobs(other.engine, other.clock)
    plan = datasets.check_share(core, OWNER, {"path": "study", "title": "T", "access": {"level": "reviewer-only"}})

    def slow_share(job):  # a slow disk: each chunk takes up to 10 s, or until the job is stopped
        def progress(n):
            job.add_bytes(n)
            job._cancel.wait(10)

        return datasets.freeze_and_share(core, plan, progress=progress, file_done=job.file_done)

    job = here.start("share", "user:ada", files_total=2, bytes_total=plan.bytes_total, work=slow_share)
    seen(there, job.id, lambda j: j.bytes_done > 0)
    with pytest.raises(NotFound):
        there.cancel("user:bob", job.id)
    assert there.cancel("user:ada", job.id).state == RUNNING  # asked; it stops at its next chunk
    stopped = seen(there, job.id, lambda j: j.state != RUNNING, timeout=5)
    assert stopped.state == FAILED and stopped.error["status"] == 409
    assert stopped.error["message"] == "cancelled: nothing was shared" and job.state == FAILED
    assert nothing_stored(core)
    here.close(), there.close()


def test_a_job_queued_in_one_process_and_cancelled_in_another_never_runs(core, other):
    here, there = Jobs(core.engine, core.clock, threads=1, report_seconds=3600), Jobs(other.engine, other.clock)
    release, ran = threading.Event(), []
    blocker = here.start("share", "user:ada", files_total=0, bytes_total=0, work=lambda j: release.wait(10))
    queued = here.start("version", "user:ada", files_total=1, bytes_total=1, work=lambda j: ran.append(1))
    there.cancel("user:ada", queued.id)  # its process's reporter never ticks: the worker asks the row itself
    release.set()
    wait(blocker), wait(queued)
    assert ran == [] and queued.error["message"] == "cancelled: no version was published"
    # The other process reads the row, written just after the job finished in its own process.
    for _ in range(500):
        if there.get("user:ada", queued.id).error is not None:
            break
        threading.Event().wait(0.01)
    assert there.get("user:ada", queued.id).error == queued.error
    here.close(), there.close()


def test_a_job_whose_process_stopped_is_failed_once_its_heartbeat_is_too_old(core, other):
    now = [1000.0]
    timer = lambda: now[0]  # noqa: E731
    # A process that stops answering: its reporter never ticks (no heartbeat, as after a kill -9).
    gone = Jobs(core.engine, core.clock, timer=timer, report_seconds=3600)
    alive = Jobs(core.engine, core.clock, timer=timer, report_seconds=0.02)
    there = Jobs(other.engine, other.clock, timer=timer, stale_seconds=30)
    gate = threading.Event()
    lost = gone.start("share", "user:ada", files_total=3, bytes_total=300, work=lambda j: gate.wait(10))
    lost_version = gone.start("version", "user:ada", files_total=1, bytes_total=1, work=lambda j: gate.wait(10))
    busy = alive.start("share", "user:ada", files_total=3, bytes_total=300, work=lambda j: gate.wait(10))
    now[0] += 25
    assert there.get("user:ada", lost.id).state == RUNNING
    # The live process beats (every 5 s of its timer): wait until its row says so.
    for _ in range(1000):
        if rawdb.rows(core, "SELECT heartbeat_at FROM jobs WHERE id = ?", (busy.id,)) == [(now[0],)]:
            break
        threading.Event().wait(0.01)
    now[0] += 10  # 35 s after the start: the silent process's jobs are lost, the live one is not
    failed = there.get("user:ada", lost.id)
    assert failed.state == FAILED and failed.error["status"] == 500
    assert failed.error["message"] == (f"the server process that ran this job (pid {os.getpid()} on {gone.host}) "
                                       "stopped before it finished; nothing was shared")  # fmt: skip
    assert there.get("user:ada", lost_version.id).error["message"].endswith("; no version was published")
    assert there.get("user:ada", busy.id).state == RUNNING
    assert gone.get("user:ada", lost.id).state == RUNNING  # in itself it still runs (it was only slow here)
    gate.set()
    wait(lost), wait(busy)
    # Back after all: its row tells the truth again.
    assert seen(there, lost.id, lambda j: j.state == DONE).error is None
    for jobs in (gone, alive, there):
        jobs.close()


@sqlite_only("a held write lock stops every writer there (on PostgreSQL the jobs' writes never wait for it)")
def test_a_cancel_that_cannot_be_written_says_so(core, other):
    here, there = Jobs(core.engine, core.clock), Jobs(other.engine, other.clock)
    gate = threading.Event()
    job = here.start("share", "user:ada", files_total=1, bytes_total=1, work=lambda j: gate.wait(10))
    with rawdb.write_locked(core, wait_ms=None):
        with pytest.raises(JobsBusy) as info:
            there.cancel("user:ada", job.id)
        assert info.value.status == 503 and "try again" in info.value.message
        assert there.get("user:ada", job.id).state == RUNNING  # reading still works
    gate.set()
    assert wait(job).state == DONE  # it was never asked to stop
    here.close(), there.close()


def test_jobs_stopped_with_their_server_process_say_so_elsewhere(core, other):
    here, there = Jobs(core.engine, core.clock, threads=1), Jobs(other.engine, other.clock)
    def endless(job):  # a freeze that goes on until it is stopped
        while True:
            job.add_bytes(1)
            threading.Event().wait(0.01)

    running = here.start("share", "user:ada", files_total=9, bytes_total=9, work=endless)
    queued = here.start("version", "user:ada", files_total=1, bytes_total=1, work=lambda j: None)
    here.close()  # the server stops: its running freeze stops at its next chunk, the queued one never runs
    for job, not_done in [(running, "nothing was shared"), (queued, "no version was published")]:
        seen_there = there.get("user:ada", job.id)
        assert seen_there.state == FAILED and seen_there.error["message"] == (
            f"the server process that ran this job (pid {os.getpid()} on {here.host}) stopped before it finished; "
            f"{not_done}")  # fmt: skip
    there.close()


def test_the_committee_links_are_handed_out_once_where_the_job_ran_and_never_stored(core, other, study):
    here, there = Jobs(core.engine, core.clock, report_seconds=0.02), Jobs(other.engine, other.clock)
    body = {"path": "study", "title": "Survey", "access": {"level": "restricted"},
            "committee": {"members": [{"name": "Dr Ext", "email": "ext@uni.example"}]}}  # fmt: skip
    plan = datasets.check_share(core, OWNER, body)
    gate = threading.Event()
    gate.set()
    job = wait(here.start("share", "user:ada", files_total=plan.files_total, bytes_total=plan.bytes_total,
                          work=paused_share(core, plan, gate)))  # fmt: skip
    far = seen(there, job.id, lambda j: j.state == DONE)
    assert far.take_secrets() == [] and far.links_elsewhere  # the other process says where they are
    (member, secret), = here.get("user:ada", job.id).take_secrets()
    assert member.name == "Dr Ext" and secret.startswith("dsc_")
    assert here.get("user:ada", job.id).take_secrets() == [] and not job.links_elsewhere  # once
    assert secret.encode() not in rawdb.all_bytes(core)
    threading.Event().wait(0.1)  # a few ticks of its reporter: taking them changes nothing in the row
    assert there.get("user:ada", job.id).links_elsewhere
    here.close(), there.close()


def test_finished_jobs_are_forgotten_by_every_process(core, other):
    now = [100.0]
    here = Jobs(core.engine, core.clock, keep_seconds=60, timer=lambda: now[0])
    there = Jobs(other.engine, other.clock, keep_seconds=60, timer=lambda: now[0])
    job = wait(here.start("share", "user:ada", files_total=0, bytes_total=0, work=lambda j: "done"))
    seen(there, job.id, lambda j: j.state == DONE)
    now[0] += 61
    with pytest.raises(NotFound):
        there.get("user:ada", job.id)
    assert rawdb.rows(core, "SELECT count(*) FROM jobs") == [(1,)]  # forgotten; deleted when a job starts
    wait(there.start("share", "user:ada", files_total=0, bytes_total=0, work=lambda j: "again"))
    assert [r[0] for r in rawdb.rows(core, "SELECT id FROM jobs")] != [job.id]
    assert len(here) == len(there) == 1
    here.close(), there.close()
