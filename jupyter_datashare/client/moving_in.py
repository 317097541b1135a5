"""``jupyter datashare push-local``: move this machine's store into the service, under the caller.

The stored files (as they are on disk: encrypted ones stay encrypted) and the old audit chain are
uploaded into a folder of the caller's at the service, verified by SHA-256 and resumable; then the
bundle and the data keys go in one request, and the service adds everything or nothing
(core/move_in.py). The local store is left as it was, but for one event in its own log saying
where its data went; a failure removes the folder sent, so both sides are as they were.
"""

from __future__ import annotations

import secrets
import tempfile

from ..core import move_out
from ..core.audit import Event
from ..core.errors import DataShareError, InvalidInput
from . import uploads
from .connection import Service, ServiceError

FOLDER_PREFIX = "datashare-move-in-"
MOVE_TIMEOUT = 6 * 3600.0


def _remove(service: Service, folder: str) -> None:
    try:
        service.call("DELETE", "api/files/" + Service.quoted(folder))
    except DataShareError:
        pass  # nothing arrived, or the service is gone: the folder holds no secret


def send_files(service: Service, pack: move_out.Pack, folder: str, progress=None) -> str:
    """Upload the old audit chain and every stored file into ``folder``; returns the chain's SHA-256."""
    with open(pack.audit_path, "rb") as f:
        audit_sha256 = uploads.send(service, f, f"{folder}/{move_out.AUDIT_FILE}")
    for stored in pack.files:
        with open(stored.local, "rb") as f:
            uploads.send(service, f, f"{folder}/{stored.remote}", progress)
    return audit_sha256


def push(ctx, service: Service, *, actor: str, client: str | None = None, progress=None) -> dict:
    """Move the local core ``ctx`` into ``service``; returns the service's account of the move."""
    with tempfile.TemporaryDirectory(prefix="datashare-move-") as work:
        pack = move_out.pack(ctx, work)
        if not pack.bundle["datasets"]:
            raise InvalidInput("datasets", "this store holds no dataset: there is nothing to move")
        folder = FOLDER_PREFIX + secrets.token_hex(8)
        try:
            audit_sha256 = send_files(service, pack, folder, progress)
        except BaseException:
            _remove(service, folder)
            raise
        body = {"folder": folder, "bundle": pack.bundle, "keys": pack.keys, "audit_sha256": audit_sha256}
        # The service copies and checks every file before it answers: a big store takes a while.
        patient = service.patient(MOVE_TIMEOUT)
        try:
            done = patient.call("POST", "api/moved-stores", body).json()
        except ServiceError:
            _remove(service, folder)  # refused, nothing added: the files sent go too
            raise
        # (Unreachable, or no answer in time: the move may still be under way, so the folder stays;
        # `GET api/moved-stores` says whether it went in.)
        finally:
            patient.close()
    ctx.audit.record(Event("store.moved_out", actor, client=client, details={
        "service": service.url, "moved_store": done["moved_store"], "datasets": len(done["datasets"]),
        "old_events": done["old_audit"]["events"], "old_head_hash": done["old_audit"]["head_hash"]}))  # fmt: skip
    return done
