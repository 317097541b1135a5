"""Who sends the bodies of large downloads: never the event loop.

A download of more than one chunk waits for one of ``at_once`` sending slots; past ``waiting``
downloads already waiting, or after ``wait_seconds``, it is refused with a 503 and Retry-After
before any byte (a crowd slows downloads down, never freezes the server). A slot's body then
goes to one of ``processes`` sending processes (``sender_process``): the client's socket and
the stored file travel as file descriptors, so decryption runs outside the server's GIL and
its event loop keeps answering. With ``processes = 0`` threads of the server send instead.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import queue
import socket
import subprocess
import sys
import threading

from ..core import crypto
from ..core.errors import Busy
from . import pump


class Senders:
    def __init__(self, processes: int, at_once: int, waiting: int, wait_seconds: float, stall_timeout: float,
                 nice: int = 10):
        self.processes, self.at_once, self.waiting = max(0, processes), max(1, at_once), max(0, waiting)
        self.wait_seconds, self.stall_timeout, self.nice = wait_seconds, stall_timeout, min(19, max(0, nice))
        self._slots: asyncio.Semaphore | None = None
        self._queued = 0
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.started = 0  # bodies sent this way so far (tests and curious operators)
        self._starting: threading.Thread | None = None
        self._closed = False

    async def reserve(self) -> None:
        """A sending slot, waiting for one in turn; ``Busy`` (a 503) when too many wait already
        or none came free in time. Give it back with ``release``."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.at_once)
        if self._slots.locked():
            if self._queued >= self.waiting:
                raise Busy(f"{self.at_once} downloads are being sent and {self._queued} wait: try again shortly")
            self._queued += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
            except asyncio.TimeoutError:
                raise Busy(f"no download slot came free within {self.wait_seconds:.0f} s: try again shortly") from None
            finally:
                self._queued -= 1
        else:
            await self._slots.acquire()

    def release(self) -> None:
        self._slots.release()

    async def send(self, sock, fr, start: int, chunk: int) -> tuple[int, BaseException | None]:
        """Send bytes ``start`` .. ``fr.end`` of the read ``fr`` (decided and audited) on ``sock``.
        Returns the bytes sent and what stopped the body early; damage is already audited."""
        self.started += 1
        worker = self._worker() if self.processes else None
        if worker is None:  # threads of the server send (no processes, or they are still starting)
            return await _in_thread(self._send_here, sock, fr, start, chunk)
        stored = fr.stored_file()  # closed by the worker once its descriptor went over
        job = {"start": start, "end": fr.end, "chunk": chunk, "stall": self.stall_timeout, "size": fr.size,
               "sha256": fr.sha256, "key": base64.b64encode(fr.data_key).decode() if fr.encrypted else None}  # fmt: skip
        reply = await worker.submit(job, stored, sock)
        if reply.get("damaged"):
            damage = crypto.DamagedFile(reply["damaged"]["problem"], reply["damaged"]["segment"])
            await _in_thread(fr.report_damage, damage)
            return reply["sent"], damage
        return reply["sent"], OSError(reply["error"]) if reply.get("error") else None

    def _send_here(self, sock, fr, start: int, chunk: int):
        if not fr.encrypted:
            with fr.stored_file() as stored:
                return pump.send_file(sock, stored.fileno(), start, fr.end + 1 - start, self.stall_timeout)
        views = fr.views(chunk, buffers=pump.BUFFERS, start=start)
        return pump.send_views(sock, views, self.stall_timeout)

    def _worker(self) -> _Worker | None:
        """The least busy sending process, or None while none is up yet. They are started on
        first need, in the background: at the server's start two interpreters importing
        ``cryptography`` beside it cost its start-up a second on two cores."""
        with self._lock:
            self._workers = [w for w in self._workers if w.alive]
            if len(self._workers) < self.processes and (self._starting is None or not self._starting.is_alive()):
                self._starting = threading.Thread(target=self._start_missing, name="datashare-senders-start", daemon=True)
                self._starting.start()
            ready = [w for w in self._workers if w.ready.is_set()]
            return min(ready, key=lambda w: len(w.pending)) if ready else None

    def warm_up(self, timeout: float = 60) -> bool:
        """Start the sending processes now and wait until they listen (tests, benchmarks)."""
        self._worker()
        starting = self._starting
        if starting is not None:
            starting.join(timeout)
        return all(w.ready.is_set() for w in self._workers) and len(self._workers) == self.processes

    def _start_missing(self) -> None:
        while True:
            with self._lock:
                if self._closed or len(self._workers) >= self.processes:
                    return
                worker = _Worker(self.nice)
                self._workers.append(worker)
            worker.ready.wait(60)  # one at a time: each costs a core for a moment

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for w in self._workers:
                w.close()
            self._workers = []


class _Worker:
    """One sending process and the server's end of its Unix socket."""

    _ids = itertools.count(1)

    def __init__(self, nice: int):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "jupyter_datashare.server.sender_process", str(theirs.fileno()), str(nice)]
        self.proc = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self.control, self.alive = mine, True
        self.ready = threading.Event()  # set when the process says it is listening
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._lock = threading.Lock()
        # Handing a job over blocks while the process has not taken the ones before (a Unix socket
        # queues only a few messages): a thread of its own does it, never the event loop.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read_replies, name="datashare-sender-replies", daemon=True).start()
        threading.Thread(target=self._hand_over, name="datashare-sender-jobs", daemon=True).start()

    def submit(self, job: dict, stored, sock) -> asyncio.Future:
        """Hand over a job; ``stored`` (the opened stored file) is closed here once it went."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        job_id = next(self._ids)
        with self._lock:
            self.pending[job_id] = (loop, future)
        self._outbox.put((job_id, json.dumps(job | {"id": job_id}).encode(), stored, sock.fileno()))
        return future

    def _hand_over(self) -> None:
        while (item := self._outbox.get()) is not None:
            job_id, message, stored, sock_fd = item
            try:
                socket.send_fds(self.control, [message], [sock_fd, stored.fileno()])
            except OSError as exc:
                self.alive = False
                with self._lock:
                    loop, future = self.pending.pop(job_id, (None, None))
                if future is not None:
                    loop.call_soon_threadsafe(_resolve, future, {"sent": 0, "error": f"the sending process is gone ({exc})"})
            finally:
                stored.close()  # the sending process has its own descriptor now

    def _read_replies(self) -> None:
        while True:
            try:
                msg = self.control.recv(1 << 16)
            except OSError:
                msg = b""
            if not msg:
                break
            reply = json.loads(msg)
            if reply.get("ready"):
                self.ready.set()
                continue
            with self._lock:
                loop, future = self.pending.pop(reply["id"], (None, None))
            if future is not None:
                loop.call_soon_threadsafe(_resolve, future, reply)
        self.alive = False
        with self._lock:
            left, self.pending = list(self.pending.values()), {}
        for loop, future in left:  # their clients get a short transfer, never a hang
            loop.call_soon_threadsafe(_resolve, future, {"sent": 0, "error": "the sending process ended"})

    def close(self) -> None:
        self.alive = False
        self._outbox.put(None)
        try:
            self.control.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.control.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _resolve(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)


async def _in_thread(fn, *args):
    """A thread of its own: a body may take minutes, which must not hold a pool's thread."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def run():
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the caller
            loop.call_soon_threadsafe(lambda: future.done() or future.set_exception(exc))
            return
        loop.call_soon_threadsafe(_resolve, future, result)

    threading.Thread(target=run, name="datashare-send", daemon=True).start()
    return await future
