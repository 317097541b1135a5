"""Background jobs: freezing a large folder runs in a thread and reports how far it got.

A job belongs to the Jupyter user who started it; nobody else can see it (to them it does not
exist). It keeps counters that the freeze moves forward (bytes and files done, against totals
counted before it started), and once finished it is kept a few minutes for its owner to read,
then forgotten. Only the outcome lives here: the dataset, its version and its audit events are
made by the same core functions as a share that waits for its answer.

Plain Python (no tornado): the HTTP adapter is ``server/jobs.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .clock import Clock, iso
from .errors import DataShareError, NotFound
from .secrets import new_id

log = logging.getLogger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"
# What did not happen when a job of each kind fails (the error message says it).
NOT_DONE = {"share": "nothing was shared", "version": "no version was published"}


class Cancelled(DataShareError):
    """Its owner stopped the job; the freeze stops at its next chunk."""

    status = 409

    def __init__(self, kind: str):
        super().__init__(f"cancelled: {NOT_DONE.get(kind, 'nothing was done')}")


class Job:
    """One background freeze. The worker thread moves the counters; handlers read them."""

    def __init__(self, kind: str, user: str, files_total: int, bytes_total: int, started):
        self.id = new_id("job-")
        self.kind, self.user = kind, user
        self.state = RUNNING
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files_done = self.bytes_done = 0
        self.started, self.finished = started, None
        self.result: Any = None  # what the work returned, e.g. {"dataset_id": ..., "version": ...}
        self.error: dict | None = None
        # Secrets made by the work (new committee members' links): handed out once, then dropped.
        self.secrets: list = []
        self.finished_at: float | None = None  # monotonic, for forgetting
        self._cancel = threading.Event()
        self._lock = threading.Lock()

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
            self.finished, self.finished_at = now, finished_at
            self.state = state  # last: a reader that sees DONE also sees the result


def error_of(exc: BaseException, kind: str) -> dict:
    """What a failed job tells its owner: what the same request would have answered."""
    if isinstance(exc, DataShareError):
        return {**exc.to_dict(), "field": getattr(exc, "field", None), "status": exc.status}
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return {"error": "ServerError", "message": f"freezing failed on the server ({reason}); {NOT_DONE.get(kind, '')}",
            "field": None, "status": 500}  # fmt: skip


class Jobs:
    """The jobs of one server: a few worker threads, so more jobs than that wait their turn."""

    def __init__(self, clock: Clock, *, threads: int = 2, keep_seconds: float = 600.0,
                 timer: Callable[[], float] = time.monotonic):  # fmt: skip
        self.clock, self.keep_seconds, self.timer = clock, keep_seconds, timer
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="datashare-job")

    def start(self, kind: str, user: str, *, files_total: int, bytes_total: int, work: Callable[[Job], Any]) -> Job:
        """Run ``work(job)`` in a worker thread; what it returns becomes ``job.result``."""
        self._forget_finished()
        job = Job(kind, user, files_total, bytes_total, self.clock.now())
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job._stop_if_cancelled()  # cancelled while it waited for a thread
            result = work(job)
        except Exception as exc:
            if not isinstance(exc, DataShareError):
                log.exception("jupyter_datashare: %s job %s failed", job.kind, job.id)
            job._finish(FAILED, self.clock.now(), self.timer(), error=error_of(exc, job.kind))
        else:
            job._finish(DONE, self.clock.now(), self.timer(), result=result)

    def get(self, user: str, job_id: str) -> Job:
        """The job, if ``user`` started it; anyone else gets the same answer as for no job at all."""
        self._forget_finished()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.user != user:
            raise NotFound(f"no job '{job_id}'")
        return job

    def __len__(self) -> int:
        """Jobs still known: running, or finished and not yet forgotten."""
        self._forget_finished()
        with self._lock:
            return len(self._jobs)

    def _forget_finished(self) -> None:
        cutoff = self.timer() - self.keep_seconds
        with self._lock:
            for job_id in [j.id for j in self._jobs.values() if j.finished_at is not None and j.finished_at <= cutoff]:
                del self._jobs[job_id]

    def close(self) -> None:
        """Stop every job at its next chunk and wait for the threads (the server is stopping)."""
        with self._lock:
            running = list(self._jobs.values())
        for job in running:
            job.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
