"""Background jobs: freezing a large folder runs in a thread and reports how far it got.

A job belongs to the Jupyter user who started it; nobody else can see it (to them it does not
exist). It keeps counters that the freeze moves forward (bytes and files done, against totals
counted before it started), and once finished it is kept a few minutes for its owner to read,
then forgotten. Only the outcome lives here: the dataset, its version and its audit events are
made by the same core functions as a share that waits for its answer.

Several server processes on one database behind a load balancer: the owner's next poll may reach
any of them. So a job's state lives in the ``jobs`` table (models.JobRecord), and every process
answers for every job:

- The process that runs a job keeps it in memory too (it answers its own polls from there) and
  writes the row: inserted at the start, then at most once per ``report_seconds`` (1 s) from one
  reporter thread, and at the end by the worker. The freeze itself only moves counters in memory,
  never a write per chunk. Each write is a short transaction of its own that takes none of the
  audit's locks (no PostgreSQL advisory lock; on SQLite a short wait, then the next tick retries).
- Cancelling in any process sets ``cancel_requested`` in the row; the reporter of the process
  running it reads that flag once per tick and the freeze stops at its next chunk or file.
- The reporter refreshes ``heartbeat_at`` of its running jobs at least every ``beat_seconds``
  (5 s), however long a file takes. A running job whose heartbeat is older than ``stale_seconds``
  (30 s) ran in a process that is gone: it is reported as failed (nothing was shared, or no version
  published: the commit that would have made it is all or nothing, and the store's clean-up,
  store_check, takes what the freeze left). Should that process come back after all, its row
  tells the truth again.
- Secrets are never stored (DESIGN §6). New external committee members' links, made by a share,
  are kept in the memory of the process that ran the job and handed out once, there. Any other
  process answers the finished job as usual without them and says so (``links_elsewhere``).

Plain Python (no tornado): the HTTP adapter is ``server/jobs.py``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import job_rows
from .clock import Clock, iso
from .errors import DataShareError, NotFound
from .secrets import new_id

log = logging.getLogger(__name__)

RUNNING, DONE, FAILED = job_rows.RUNNING, "done", "failed"
# What did not happen when a job of each kind fails (the error message says it).
NOT_DONE = {"share": "nothing was shared", "version": "no version was published"}


class Cancelled(DataShareError):
    """Its owner stopped the job; the freeze stops at its next chunk."""

    status = 409

    def __init__(self, kind: str):
        super().__init__(f"cancelled: {NOT_DONE.get(kind, 'nothing was done')}")


class JobsBusy(DataShareError):
    """The jobs table could not be written just now (another writer holds the database)."""

    status = 503

    def __init__(self):
        super().__init__("the database is busy, so the job could not be stopped yet; try again")


class Job:
    """One background freeze. ``here``: this process runs it, the worker thread moves its counters;
    else a snapshot of its row, from the process that runs (or ran) it."""

    def __init__(self, kind: str, user: str, files_total: int, bytes_total: int, started, *,
                 job_id: str | None = None, here: bool = True):  # fmt: skip
        self.id = job_id or new_id("job-")
        self.kind, self.user, self.here = kind, user, here
        self.state = RUNNING
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files_done = self.bytes_done = 0
        self.started, self.finished = started, None
        self.result: Any = None  # what the work returned, e.g. {"dataset_id": ..., "version": ...}
        self.error: dict | None = None
        # Secrets made by the work (new committee members' links): handed out once, then dropped.
        self.secrets: list = []
        self.links_made = 0  # how many committee links it made (counted when done: taking them keeps it)
        # Finished in another process that holds the committee links it made (shown only there).
        self.links_elsewhere = False
        self.finished_at: float | None = None  # by the Jobs' timer, for forgetting
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._cancel_elsewhere: Callable[[str], None] | None = None  # for a snapshot: flags the row
        self._written: tuple | None = None  # what its row holds (None: not inserted yet)
        self._beat = 0.0  # when its row was last written, by the timer

    # -- called by the freeze, in the worker thread ------------------------------------------

    def add_bytes(self, n: int) -> None:
        self._stop_if_cancelled()
        self.bytes_done += n

    def file_done(self) -> None:
        self.files_done += 1
        self._stop_if_cancelled()

    def _stop_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(self.kind)

    # -- called by the owner -----------------------------------------------------------------

    def cancel(self) -> None:
        """Ask a running job to stop; a finished one stays as it is."""
        self._cancel.set()
        if self._cancel_elsewhere is not None:
            self._cancel_elsewhere(self.id)

    def take_secrets(self) -> list:
        """The secrets of a finished job, the first time only (like the answer of a direct share)."""
        with self._lock:
            if self.state != DONE:
                return []
            taken, self.secrets = self.secrets, []
            return taken

    def view(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "started": iso(self.started),
            "finished": iso(self.finished),
            "error": self.error,
        }

    def _finish(self, state: str, now, finished_at: float, *, result=None, error=None) -> None:
        with self._lock:
            self.result, self.error = result, error
            if state == DONE:
                # What was actually frozen (a file may have changed size since it was counted).
                self.bytes_total = self.bytes_done
                self.links_made = sum(1 for _member, secret in self.secrets if secret)
            self.finished, self.finished_at = now, finished_at
            self.state = state  # last: a reader that sees DONE also sees the result

    def _row(self) -> dict:
        """What its row should hold (progress and outcome), to tell whether it must be written."""
        with self._lock:
            return {"state": self.state, "files_done": self.files_done, "bytes_done": self.bytes_done,
                    "bytes_total": self.bytes_total, "finished": self.finished, "result": self.result,
                    "error": self.error, "links_made": self.links_made}  # fmt: skip


def error_of(exc: BaseException, kind: str) -> dict:
    """What a failed job tells its owner: what the same request would have answered."""
    if isinstance(exc, DataShareError):
        return {**exc.to_dict(), "field": getattr(exc, "field", None), "status": exc.status}
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return {"error": "ServerError", "message": f"freezing failed on the server ({reason}); {NOT_DONE.get(kind, '')}",
            "field": None, "status": 500}  # fmt: skip


def stopped_error(kind: str, host: str, pid: int) -> dict:
    """The outcome of a job whose process stopped (killed, crashed, its machine gone) mid-way."""
    message = (f"the server process that ran this job (pid {pid} on {host}) stopped before it finished; "
               f"{NOT_DONE.get(kind, 'nothing was done')}")  # fmt: skip
    return {"error": "ServerError", "message": message, "field": None, "status": 500}


class Jobs:
    """The jobs of one server process: a few worker threads, so more jobs than that wait their
    turn; the ``jobs`` table makes them (and those of every other process) visible to all.

    ``timer`` gives seconds since the epoch (it is compared across processes): heartbeats, and
    when finished jobs are forgotten."""

    def __init__(self, engine: Engine | None, clock: Clock, *, threads: int = 2, keep_seconds: float = 600.0,
                 timer: Callable[[], float] = time.time, stale_seconds: float = 30.0, beat_seconds: float = 5.0,
                 report_seconds: float = 1.0):  # fmt: skip
        # None: one process with no database (a Jupyter server in client mode), jobs in memory only.
        self.engine = job_rows.jobs_engine(engine) if engine is not None else None
        self._own_engine = self.engine is not engine
        self.clock, self.keep_seconds, self.timer = clock, keep_seconds, timer
        self.stale_seconds, self.beat_seconds, self.report_seconds = stale_seconds, beat_seconds, report_seconds
        self.instance, self.host, self.pid = new_id("proc-", 12), socket.gethostname(), os.getpid()
        self._jobs: dict[str, Job] = {}  # the jobs this process runs or ran (with their secrets)
        self._lock, self._write_lock = threading.Lock(), threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="datashare-job")
        self._stopping = threading.Event()
        self._reporter: threading.Thread | None = None
        self._failing = False  # the last write failed (logged once, not every tick)

    def start(self, kind: str, user: str, *, files_total: int, bytes_total: int, work: Callable[[Job], Any]) -> Job:
        """Run ``work(job)`` in a worker thread; what it returns becomes ``job.result``."""
        self._forget_finished()
        job = Job(kind, user, files_total, bytes_total, self.clock.now())
        with self._lock:
            self._jobs[job.id] = job
        self._write([job], prune=True)  # now, so any process finds it; if the database is busy, the next tick
        self._start_reporter()
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        try:
            self._read_cancels([job])  # cancelled in another process while it waited for a thread
            job._stop_if_cancelled()
            result = work(job)
        except Exception as exc:
            if not isinstance(exc, DataShareError):
                log.exception("jupyter_datashare: %s job %s failed", job.kind, job.id)
            job._finish(FAILED, self.clock.now(), self.timer(), error=self._error_of(exc, job.kind))
        else:
            job._finish(DONE, self.clock.now(), self.timer(), result=result)
        self._write([job])

    def _error_of(self, exc: BaseException, kind: str) -> dict:
        if isinstance(exc, Cancelled) and self._stopping.is_set():  # stopped by close(), not by its owner
            return stopped_error(kind, self.host, self.pid)
        return error_of(exc, kind)

    def get(self, user: str, job_id: str) -> Job:
        """The job, if ``user`` started it; anyone else gets the same answer as for no job at all.

        One this process runs is answered from memory (always current); any other from its row."""
        self._forget_finished()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            job = self._from_row(job_id)
        if job is None or job.user != user:
            raise NotFound(f"no job '{job_id}'")
        return job

    def cancel(self, user: str, job_id: str) -> Job:
        """Ask the job to stop, wherever it runs; returns it as it is now (still running, mostly)."""
        job = self.get(user, job_id)
        job.cancel()
        return job

    def __len__(self) -> int:
        """Jobs still known, of every process: running, or finished and not yet forgotten."""
        self._forget_finished()
        if self.engine is None:
            return len(self._jobs)
        self._write([], prune=True)
        return job_rows.count(self.engine, self.timer(), self.keep_seconds, self.stale_seconds)

    # -- the table ---------------------------------------------------------------------------

    def _from_row(self, job_id: str) -> Job | None:
        if self.engine is None:
            return None
        now = self.timer()
        row = job_rows.load(self.engine, job_id, now, self.keep_seconds, self.stale_seconds)
        if row is None:
            return None
        job = Job(row.kind, row.started_by, row.files_total, row.bytes_total, row.started, job_id=row.id, here=False)
        job.files_done, job.bytes_done, job.finished = row.files_done, row.bytes_done, row.finished
        job.result, job.error = row.result, row.error
        job.state = row.state
        if row.state == RUNNING and now - row.heartbeat_at > self.stale_seconds:
            job.state, job.error = FAILED, stopped_error(row.kind, row.host, row.pid)
        job.links_elsewhere = job.state == DONE and row.links_made > 0
        job._cancel_elsewhere = self._flag_cancel
        return job

    def _flag_cancel(self, job_id: str) -> None:
        try:
            job_rows.ask_to_stop(self.engine, job_id)
        except SQLAlchemyError as exc:
            log.warning("jupyter_datashare: could not ask job %s to stop: %s", job_id, exc)
            raise JobsBusy() from None

    def _write(self, jobs: list[Job], prune: bool = False) -> None:
        """Bring the rows of ``jobs`` up to date in one short transaction (taking none of the audit's
        locks); if it fails, the reporter tries again at its next tick."""
        with self._write_lock:  # one writer at a time: a tick never puts back what the finish replaced
            self._write_now(jobs, prune)

    def _write_now(self, jobs: list[Job], prune: bool) -> None:
        if self.engine is None:
            return
        now, written = self.timer(), []
        try:
            with self.engine.begin() as conn:
                if prune:
                    job_rows.prune(conn, now, self.keep_seconds, self.stale_seconds)
                for job in jobs:
                    values = job._row()
                    written.append((job, values))
                    job_rows.save(conn, values | {"heartbeat_at": job.finished_at or now}, {
                        "id": job.id, "kind": job.kind, "started_by": job.user, "files_total": job.files_total,
                        "started": job.started, "cancel_requested": job._cancel.is_set(), "instance": self.instance,
                        "host": self.host, "pid": self.pid})  # fmt: skip
            for job, values in written:  # what was written: the job may have moved on meanwhile
                job._written, job._beat = values, now
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("jupyter_datashare: the jobs table could not be written (retrying): %s", exc)
            self._failing = True
            return
        self._failing = False

    def _read_cancels(self, jobs: list[Job]) -> None:
        """Stop the jobs whose row asks for it (cancelled through another process)."""
        ids = [j.id for j in jobs if j.state == RUNNING and not j._cancel.is_set()]
        if not ids or self.engine is None:
            return
        try:
            asked = job_rows.asked_to_stop(self.engine, ids)
        except SQLAlchemyError:
            return  # the next tick asks again
        for job in jobs:
            if job.id in asked:
                job._cancel.set()

    # -- the reporter thread -----------------------------------------------------------------

    def _start_reporter(self) -> None:
        with self._lock:
            if self._reporter is None and not self._stopping.is_set():
                self._reporter = threading.Thread(target=self._report_loop, name="datashare-jobs", daemon=True)
                self._reporter.start()

    def _report_loop(self) -> None:
        while not self._stopping.wait(self.report_seconds):
            try:
                self._report()
            except Exception:  # noqa: BLE001 - the reporter must outlive any one bad tick
                log.exception("jupyter_datashare: reporting the jobs' progress failed")

    def _report(self) -> None:
        """One tick: write the rows that changed (or whose heartbeat is due), read cancel flags."""
        now = self.timer()
        with self._lock:
            mine = list(self._jobs.values())
        due = [j for j in mine if j._written != j._row() or (j.state == RUNNING and now - j._beat >= self.beat_seconds)]
        if due:
            self._write(due)
        self._read_cancels(mine)

    # -- forgetting and stopping -------------------------------------------------------------

    def _forget_finished(self) -> None:
        cutoff = self.timer() - self.keep_seconds
        with self._lock:
            for job_id in [j.id for j in self._jobs.values() if j.finished_at is not None and j.finished_at <= cutoff]:
                del self._jobs[job_id]

    def close(self) -> None:
        """Stop every job at its next chunk and wait for the threads (the server is stopping)."""
        self._stopping.set()
        with self._lock:
            mine = list(self._jobs.values())
        for job in mine:
            job.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._reporter is not None:
            self._reporter.join()
        for job in mine:  # those that never got a thread
            if job.state == RUNNING:
                job._finish(FAILED, self.clock.now(), self.timer(), error=stopped_error(job.kind, self.host, self.pid))
        self._write([j for j in mine if j._written != j._row()])
        if self._own_engine and self.engine is not None:
            self.engine.dispose()
