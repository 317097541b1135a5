"""A sending process: decrypts and sends the bodies of large downloads outside the server's GIL.

AES-GCM in ``cryptography`` holds the GIL: decrypting in threads of the server itself took the
GIL from its event loop, so an owner's API call waited seconds while encrypted downloads
streamed. The server (``senders.Senders``) hands each body here instead, on a Unix socket: the
client's socket and the stored file as file descriptors (SCM_RIGHTS), and for an encrypted file
its data key. The read was decided and its audit event made durable before; this process only
moves bytes. It exits when the server closes its end (or dies).

Run as ``python -m jupyter_datashare.server.sender_process FD NICE``; only the server starts it.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading

from ..core import crypto
from . import pump


def main(fd: int, nice: int) -> None:
    # Bulk bytes yield the CPU to the server's own work (an owner's call, a page): on a busy
    # machine the downloads slow down a little, the researcher's notebook does not stall.
    try:
        os.nice(nice)
    except OSError:
        pass
    control = socket.socket(fileno=fd)
    replies = threading.Lock()
    control.send(json.dumps({"ready": True}).encode())  # imported and listening
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 2)
        except OSError:
            break
        if not msg:
            break  # the server closed its end, or is gone
        threading.Thread(target=_run, args=(control, replies, json.loads(msg), fds), daemon=True).start()
    os._exit(0)  # downloads still running are cut off with the server


def _run(control, replies, job: dict, fds: list[int]) -> None:
    reply: dict = {"id": job["id"], "sent": 0, "error": None, "damaged": None}
    sock = socket.socket(fileno=fds[0])  # a duplicate: closing it leaves the server's connection open
    try:
        with os.fdopen(fds[1], "rb", buffering=0) as f:
            if job.get("key") is None:
                sent, error = pump.send_file(sock, f.fileno(), job["start"], job["end"] + 1 - job["start"], job["stall"])
            else:
                stored = crypto.EncryptedFile(f, base64.b64decode(job["key"]), job["size"], job["sha256"])
                views = stored.views(job["start"], job["end"], job["chunk"], buffers=pump.BUFFERS)
                sent, error = pump.send_views(sock, views, job["stall"])
    except BaseException as exc:  # opening the stored file found it damaged, or could not read it
        sent, error = 0, exc
    finally:
        sock.close()
    reply["sent"] = sent
    if isinstance(error, crypto.DamagedFile):
        reply["damaged"] = {"problem": error.problem, "segment": error.segment}
    elif error is not None:
        reply["error"] = f"{type(error).__name__}: {error}"
    with replies:
        try:
            control.send(json.dumps(reply).encode())
        except OSError:
            pass  # the server is gone


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
