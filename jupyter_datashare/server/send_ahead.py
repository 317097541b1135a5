"""Sending an encrypted file while the next chunks are being decrypted.

An encrypted download costs two things per byte: AES-GCM decryption (which holds the GIL) and
the copy into the socket (which does not). Done one after the other on the event loop they add
up; on two threads they overlap, one core each. So a download gets a decrypting thread, which
fills a small ring of buffers ahead, and a sending thread, which hands each buffer to the
socket. Threads are bounded by ``slots``; a download that finds none free is decrypted on the
event loop as before, so a crowd of slow clients can slow encrypted downloads down but never
stop the server.
"""

from __future__ import annotations

import asyncio
import queue
import select
import threading
from typing import Iterator

BUFFERS = 3  # the ring the decrypting thread fills: one being sent, one queued, one being filled
_END = object()


class SendAhead:
    def __init__(self, slots: int, stall_timeout: float):
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self.stall_timeout = stall_timeout
        self.started = 0  # downloads sent this way so far (for tests and curious operators)

    def try_reserve(self) -> bool:
        """A slot for one download, or False when all are taken (then decrypt inline)."""
        return self._slots.acquire(blocking=False)

    async def run(self, sock, first: memoryview, views: Iterator[memoryview]) -> tuple[int, BaseException | None]:
        """Send ``first`` and then every view of ``views`` (taken from a ring of ``BUFFERS``
        buffers) on the non-blocking ``sock``, on a reserved slot. Returns the bytes sent and
        what stopped the download early: a damaged segment, a gone or stalled client."""
        self.started += 1
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        ready: queue.Queue = queue.Queue(maxsize=BUFFERS - 2)  # so a queued view's buffer is never refilled
        stop = threading.Event()

        def decrypt() -> None:
            item: object = first
            try:
                while item is not _END and not stop.is_set():
                    if _put(ready, item, stop):
                        item = next(views, _END)
            except BaseException as exc:  # a damaged segment (already audited) or a failed read
                item = exc
            finally:
                views.close()
            _put(ready, item, stop)

        def send() -> None:
            sent, error = 0, None
            try:
                poller = select.poll()
                poller.register(sock.fileno(), select.POLLOUT)
                while (item := ready.get()) is not _END:
                    if isinstance(item, BaseException):
                        error = item
                        break
                    sent += _send_all(sock, item, poller, self.stall_timeout)
            except (OSError, TimeoutError) as exc:  # the client went away or stopped reading
                error = exc
            finally:
                stop.set()
                self._slots.release()
                loop.call_soon_threadsafe(_resolve, done, (sent, error))

        try:
            threading.Thread(target=decrypt, name="datashare-decrypt", daemon=True).start()
            threading.Thread(target=send, name="datashare-send", daemon=True).start()
        except RuntimeError:  # no thread to be had: the caller cuts this connection
            stop.set()
            self._slots.release()
            raise
        return await done


def _put(ready: queue.Queue, item, stop: threading.Event) -> bool:
    """Queue ``item`` unless the sender has stopped; True once queued."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False


def _send_all(sock, view: memoryview, poller, stall_timeout: float) -> int:
    total = len(view)
    while view:
        try:
            n = sock.send(view)
        except (BlockingIOError, InterruptedError):
            n = 0
        if n:
            view = view[n:]
        elif not poller.poll(stall_timeout * 1000):
            raise TimeoutError(f"the client read nothing for {stall_timeout:.0f} s")
    return total


def _resolve(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)
