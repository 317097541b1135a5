"""Moving a download's bytes into its socket, blocking, on threads of their own.

Used by the sending processes (``sender_process``) and, with ``download_processes = 0``, by
threads of the server itself; never on the event loop. An encrypted body costs an AES-GCM
decryption (which holds the GIL) and a copy into the socket (which does not): one thread
decrypts into a small ring of buffers while the calling thread sends, so the two overlap.
A plain body is one ``sendfile`` after another. The socket is non-blocking (as tornado leaves
it); a client that reads nothing for ``stall_timeout`` seconds is cut off.
"""

from __future__ import annotations

import os
import queue
import select
import threading
from typing import Iterator

BUFFERS = 3  # the ring the decrypting thread fills: one being sent, one queued, one being filled
_END = object()


def send_views(sock, views: Iterator[memoryview], stall_timeout: float) -> tuple[int, BaseException | None]:
    """Send every view of ``views`` (views of a ring of ``BUFFERS`` reused buffers), decrypted
    on a second thread. Returns the bytes sent and what stopped the body early: a damaged
    segment (``crypto.DamagedFile``), a failed read, a gone or stalled client."""
    ready: queue.Queue = queue.Queue(maxsize=BUFFERS - 2)  # so a queued view's buffer is never refilled
    stop = threading.Event()

    def decrypt() -> None:
        item: object = _END
        try:
            for item in views:
                if not _put(ready, item, stop):
                    return
            item = _END
        except BaseException as exc:  # a damaged segment or a failed read
            item = exc
        finally:
            views.close()
        _put(ready, item, stop)

    sent, error = 0, None
    worker = threading.Thread(target=decrypt, name="datashare-decrypt", daemon=True)
    worker.start()
    try:
        poller = _poller(sock)
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                error = item
                break
            sent += _send_all(sock, item, poller, stall_timeout)
    except (OSError, TimeoutError) as exc:  # the client went away or stopped reading
        error = exc
    finally:
        stop.set()
    worker.join()
    return sent, error


def send_file(sock, fd: int, offset: int, length: int, stall_timeout: float) -> tuple[int, BaseException | None]:
    """``length`` bytes of the file ``fd`` from ``offset``, copied by the kernel (sendfile)."""
    sent, poller = 0, _poller(sock)
    try:
        while sent < length:
            try:
                n = os.sendfile(sock.fileno(), fd, offset + sent, min(length - sent, 1 << 30))
            except (BlockingIOError, InterruptedError):
                n = None
            if n == 0:
                raise OSError(f"the stored file ended {length - sent} bytes early")
            if n is None:
                if not poller.poll(stall_timeout * 1000):
                    raise TimeoutError(f"the client read nothing for {stall_timeout:.0f} s")
                continue
            sent += n
    except (OSError, TimeoutError) as exc:
        return sent, exc
    return sent, None


def _poller(sock):
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLOUT)
    return poller


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
