"""A share, or a new version, made against the service from a folder on this machine.

1. The service checks every field a share has but its files (``POST api/datasets?check=1``): a
   bad title fails at once, before a byte is sent.
2. The files are listed here with the same rules as a local share (``core/paths.py``: inside the
   root, hidden files only when asked), hashed, and uploaded to the same relative path in the
   caller's folder on the service.
3. The service shares that folder holding it to the manifest (``expected_files``: each file's path
   and SHA-256), so what it freezes is exactly what was hashed here, then the uploaded copy is
   removed from its folder (the store holds the files now).
Stopping (``stop()`` raising) at any step leaves nothing shared; the service's own job is stopped too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import manifests, paths
from ..core.errors import DataShareError, InvalidInput
from .connection import Service, ServiceError
from .uploads import send as send_file

POLL_SECONDS = 0.25


@dataclass
class Upload:
    """What a share or version will send: checked here, nothing sent yet."""

    source: str  # the path relative to the root, as the service will hold it in the caller's folder
    files: list[paths.SourceFile]
    is_folder: bool

    @property
    def bytes_total(self) -> int:
        return sum(f.size or 0 for f in self.files)

    def remote_path(self, f: paths.SourceFile) -> str:
        return f"{self.source}/{f.relpath}" if self.is_folder else self.source


def plan(root: str, path, include_hidden: bool = False, forbidden=()) -> Upload:
    """The files of ``path`` under ``root``, by the rules of a local share (InvalidInput naming ``path``)."""
    if include_hidden:
        # The service keeps nothing hidden in a user's folder (core/uploads.py).
        raise InvalidInput("include_hidden", "hidden files are not sent to the datashare service: rename them "
                                             "(without the leading '.') to share them")  # fmt: skip
    fb = paths.Forbidden(tuple(forbidden))
    target = paths.resolve(root, path, include_hidden, forbidden=fb)
    files = paths.collect(root, target, include_hidden, forbidden=fb)
    source = str(target.relative_to(Path(root).resolve())).replace("\\", "/")
    return Upload(source, files, target.is_dir())


def check(service: Service, body: dict) -> None:
    """Every field but the files', at the service (ServiceError naming a bad one)."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    service.call("POST", "api/datasets", body, query={"check": 1})


def send(service: Service, up: Upload, *, progress=None, file_done=None, stop=None) -> list[dict]:
    """Upload the files (after clearing what an earlier attempt left there); returns the manifest."""
    _remove(service, up.source)
    manifest = []
    for f in up.files:
        # Hashed and sent from one descriptor, opened only if it is still the file that was checked
        # (a file swapped for a link since is refused, as a local share refuses it).
        try:
            fd = paths.open_checked(f)
        except OSError as exc:
            raise InvalidInput("path", f"'{f.relpath}' {getattr(exc, 'reason', None) or exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as fh:
            sha = send_file(service, fh, up.remote_path(f), progress=progress, stop=stop)
        manifest.append({"path": f.relpath, "sha256": sha})
        if file_done is not None:
            file_done()
    return manifest


def _remove(service: Service, source: str) -> None:
    try:
        service.call("DELETE", "api/files/" + Service.quoted(source))
    except ServiceError as exc:
        if exc.status != 404:
            raise


def _run_at_service(service: Service, rel: str, body: dict, stop) -> dict:
    """Start the share or version as a job of the service and wait for it (stopping it if asked)."""
    answer = service.call("POST", rel, body, query={"async": 1})
    job_id = answer.json()["job"]["id"]
    job_rel = "api/jobs/" + Service.quoted(job_id)
    while True:
        try:
            if stop is not None:
                stop()
        except BaseException:
            try:
                service.call("DELETE", job_rel)
            except DataShareError:
                pass  # the service goes on alone; its job was asked to stop if it could hear
            raise
        job = service.call("GET", job_rel).json()
        if job["state"] == "done":
            return job
        if job["state"] == "failed":
            err = job.get("error") or {}
            raise ServiceError.of(err.get("status", 500), err)
        time.sleep(POLL_SECONDS)


def share(service: Service, root: str, body: dict, *, forbidden=(), progress=None, file_done=None,
          stop=None, up: Upload | None = None) -> dict:  # fmt: skip
    """Share ``body["path"]`` (under ``root``) at the service; returns the service's finished job:
    ``dataset`` (the owner's view) and ``committee_links`` (shown once)."""
    if up is None:
        check(service, body)
        up = plan(root, body.get("path"), body.get("include_hidden") is True, forbidden)
    try:
        manifest = send(service, up, progress=progress, file_done=file_done, stop=stop)
        return _run_at_service(service, "api/datasets", {**body, "path": up.source, manifests.FIELD: manifest}, stop)
    finally:
        _remove_quietly(service, up.source)


def new_version(service: Service, root: str, dataset: dict, *, forbidden=(), progress=None, file_done=None,
                stop=None, up: Upload | None = None) -> dict:  # fmt: skip
    """The next version of ``dataset`` (the service's owner view): its source path's files here now."""
    if up is None:  # hidden files never: what the service says of the dataset decides no more than its path
        up = plan(root, dataset["source_path"], False, forbidden)
    rel = "api/datasets/" + Service.quoted(dataset["id"]) + "/versions"
    try:
        manifest = send(service, up, progress=progress, file_done=file_done, stop=stop)
        return _run_at_service(service, rel, {manifests.FIELD: manifest}, stop)
    finally:
        _remove_quietly(service, up.source)


def _remove_quietly(service: Service, source: str) -> None:
    try:
        _remove(service, source)
    except DataShareError:
        pass  # left for the next share of that path, which clears it first
