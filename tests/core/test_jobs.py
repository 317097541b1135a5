"""Checking a share before freezing it, and the background jobs that freeze (core, no server)."""

import os
import threading

import pytest

from jupyter_datashare.core import datasets
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.errors import InvalidInput, NotFound
from jupyter_datashare.core.jobs import DONE, FAILED, Jobs
from jupyter_datashare.core.models import Dataset
from jupyter_datashare.core.store import COPY_CHUNK

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
    jobs = Jobs(core.clock)
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
    jobs = Jobs(core.clock, keep_seconds=60, timer=lambda: now[0])
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
    jobs = Jobs(core.clock, threads=1)
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
    jobs = Jobs(core.clock)

    def disk_full(job):
        raise OSError(28, "No space left on device", "/var/lib/secret/path")

    job = wait(jobs.start("version", "user:ada", files_total=1, bytes_total=1, work=disk_full))
    assert job.error == {"error": "ServerError", "field": None, "status": 500,
                         "message": "freezing failed on the server (No space left on device); no version was published"}  # fmt: skip
    assert "version job" in caplog.text  # the details are in the server's log
    jobs.close()
