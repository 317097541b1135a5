"""The one way dataset bytes are read.

``open_file`` decides (policy), writes the audit event and commits it durably, and only then
hands back something that can produce bytes. If the event cannot be written the read fails.
Denied reads are bounded per client, and repeats of one denial are counted into one event.
No other code opens blobs of the store. Files of encrypted datasets come back decrypted,
segment by segment; a damaged segment fails the read (and is audited), never yields wrong bytes.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

from sqlalchemy import bindparam, select

from . import crypto, keyring, policy, ratelimit
from .audit import Event
from .db import reader
from .errors import AccessDenied, DataShareError, NotFound, RangeNotSatisfiable, RateLimited
from .keyring import DatasetKey
from .models import Dataset, DatasetVersion, ReviewLink, VersionFile

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class FileRead:
    path: str
    size: int
    sha256: str
    start: int
    end: int  # inclusive
    partial: bool
    _store: object
    _dataset_id: str | None = None  # set, with the data key, when the stored copy is encrypted
    _data_key: bytes | None = None
    _on_damage: Callable[[crypto.DamagedFile], None] | None = None
    _blob: _OpenBlob | None = None  # the plain copy, opened when the read was decided

    @property
    def length(self) -> int:
        return self.end - self.start + 1 if self.size else 0

    @property
    def encrypted(self) -> bool:
        """Encrypted files are only read through ``chunks`` (no zero-copy sending)."""
        return self._data_key is not None

    def open(self) -> BinaryIO:
        """The stored plain file, positioned at ``start`` (for zero-copy sending)."""
        if self.encrypted:
            raise ValueError("an encrypted file has no plain bytes on disk; read it through chunks()")
        f = self._blob.reopen() if self._blob is not None else self._store.open(self.sha256)
        f.seek(self.start)
        return f

    @property
    def data_key(self) -> bytes | None:
        """The encrypted copy's data key, for a sending process of this server to decrypt the body."""
        return self._data_key

    def stored_file(self) -> BinaryIO:
        """The stored bytes as on disk (encrypted or plain), for a sender to read this read's body
        from: the read was decided and audited when this ``FileRead`` was made."""
        if self.encrypted:
            return self._store.open(self.sha256, self._dataset_id)
        return self.open()

    def report_damage(self, exc: crypto.DamagedFile) -> None:
        """A sender found a damaged segment: audited like damage found here."""
        if self._on_damage is not None:
            self._on_damage(exc)

    def chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        if self.encrypted:
            return (bytes(view) for view in self.views(chunk_size))
        return self._plain(chunk_size)

    def views(self, chunk_size: int = 1 << 20, buffers: int = 1, start: int | None = None) -> Iterator[memoryview]:
        """An encrypted file's chunks (from ``start``, default the range's), decrypted into
        ``buffers`` reused buffers in turn: each view is valid until ``buffers`` more are asked
        for (the download path sends it first)."""
        start = self.start if start is None else start
        if self.length == 0 or start > self.end:
            return
        try:
            with self._store.open(self.sha256, self._dataset_id) as f:
                stored = crypto.EncryptedFile(f, self._data_key, self.size, self.sha256)
                yield from stored.views(start, self.end, chunk_size, buffers)
        except crypto.DamagedFile as exc:
            if self._on_damage is not None:
                self._on_damage(exc)
            raise

    def _plain(self, chunk_size: int) -> Iterator[bytes]:
        remaining = self.length
        with self.open() as f:
            while remaining > 0:
                data = f.read(min(chunk_size, remaining))
                if not data:
                    raise OSError(f"stored file {self.path} is shorter than its manifest says")
                remaining -= len(data)
                yield data


class _OpenBlob:
    """A plain blob opened when its read was decided, held until the read is gone: a seal in
    another process may remove the blob from the store meanwhile, and an open file keeps its bytes."""

    def __init__(self, f: BinaryIO):
        self._fd = f.fileno()
        weakref.finalize(self, f.close)  # when the read is dropped, used or not (a HEAD, a 304)

    def reopen(self) -> BinaryIO:
        """The same bytes, as a file of the caller's own (to close); one reader at a time."""
        return os.fdopen(os.dup(self._fd), "rb", buffering=0)


def _stored_copy(ctx, dataset_id: str, entry) -> tuple[bytes | None, _OpenBlob | None]:
    """(data key, None) if the file is read from its encrypted copy, else (None, its plain blob opened).

    ``entry`` carries the dataset's key row, if it has one (``_ENTRY``). A dataset with a key may
    still read a file from its plain copy while its encryption is under way. A plain copy may
    also vanish just after "plain" was decided, when another process's seal removes it: then the
    encrypted copy exists (the seal removes a plain blob only after that), so the key is looked
    up once more instead of failing the read."""
    if entry.wrapped_key is not None or entry.key_of is not None:
        if ctx.store.has(entry.sha256, dataset_id):
            return ctx.keyring.unwrap(entry), None
    try:
        return None, _OpenBlob(ctx.store.open(entry.sha256))
    except FileNotFoundError:
        data_key = keyring.key_for_file(ctx, dataset_id, entry.sha256)
        if data_key is None:
            raise  # missing for good: the store check names such a file
        return data_key, None


def parse_range(header: str | None, size: int) -> tuple[int, int, bool]:
    """One byte range, RFC 9110 style; returns (start, end inclusive, partial)."""
    if not header:
        return 0, max(size - 1, 0), False
    header = header.strip()
    if "," in header:
        raise RangeNotSatisfiable("Range: only a single byte range is supported", size)
    m = _RANGE.fullmatch(header.replace(" ", ""))
    if not m or (m.group(1) == "" and m.group(2) == ""):
        raise RangeNotSatisfiable(f"Range: '{header[:60]}' is not a byte range such as bytes=0-1023", size)
    first, last = m.group(1), m.group(2)
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable("Range: the suffix length must be positive and the file non-empty", size)
        return max(0, size - n), size - 1, True
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"Range: bytes {start}-{last} are outside the file's {size} bytes", size)
    return start, min(end, size - 1), True


# A file's manifest entry and its dataset's key row in one statement, as a plain row: the hot
# path of every download (three ORM queries with their sessions were most of its cost).
_ENTRY = (
    select(VersionFile.path, VersionFile.size, VersionFile.sha256, VersionFile.damaged_at, VersionFile.damage,
           DatasetKey.dataset_id.label("key_of"), DatasetKey.wrapped_key, DatasetKey.master_key_id)  # fmt: skip
    .join(DatasetVersion, VersionFile.version_id == DatasetVersion.id)
    .outerjoin(DatasetKey, DatasetKey.dataset_id == DatasetVersion.dataset_id)
    .where(DatasetVersion.dataset_id == bindparam("dataset_id"), DatasetVersion.number == bindparam("number"),
           VersionFile.path == bindparam("path"))  # fmt: skip
)


def _manifest_entry(ctx, dataset_id: str, number: int, path):
    if not isinstance(path, str) or not path:
        raise NotFound("no such file in this dataset")
    with reader(ctx.engine).connect() as conn:
        row = conn.execute(_ENTRY, {"dataset_id": dataset_id, "number": number, "path": path}).first()
    if row is None:
        raise NotFound(f"'{path}' is not a file of this dataset version")
    return row


def open_file(
    ctx,
    dataset: Dataset,
    principal: policy.Principal,
    path: str,
    *,
    version: int | None = None,
    range_header: str | None = None,
    if_range: str | None = None,
    client: str | None = None,
) -> FileRead:
    """Decide, audit, then return the bytes to serve. ``dataset`` was found by the caller.

    ``if_range`` (an ETag) makes the range apply only if the file is still that content.
    """
    now = ctx.now()
    grant = principal.link if principal.kind == "grant" else None
    link: ReviewLink | None = principal.link if principal.kind == "link" else None
    if link is not None:
        if version not in (None, link.version_number):
            raise NotFound("this review link opens one version only")
        number = link.version_number
    else:
        number = dataset.latest_version if version is None else version
    if not isinstance(number, int) or not 1 <= number <= dataset.latest_version:
        raise NotFound(f"no version {number} of this dataset")
    entry = _manifest_entry(ctx, dataset.id, number, path)
    decision = policy.can_read_files(dataset, principal, now)
    if if_range and if_range.strip() not in (f'"{entry.sha256}"', f'W/"{entry.sha256}"'):
        range_header = None
    start, end, partial = parse_range(range_header, entry.size) if decision.allowed else (0, 0, False)
    if decision.allowed and entry.damaged_at is not None:
        _refuse_damaged(ctx, dataset, decision, principal, entry, number, client, link, grant)
    if decision.audited or not decision.allowed:
        action = ("grant.used" if grant is not None else "file.downloaded") if decision.allowed else "file.denied"
        event = Event(
            action,
            principal.audit_actor,
            outcome="allowed" if decision.allowed else "denied",
            dataset_id=dataset.id,
            version=number,
            file=entry.path,
            byte_range=f"{start}-{end}" if partial else None,
            reason=decision.reason,
            client=client,
            link_id=link.id if link is not None else None,
            grant_id=grant.id if grant is not None else None,
        )
        if not decision.allowed:
            _record_denial(ctx, event, policy.can_see_metadata(dataset, principal, now))
            raise AccessDenied(decision.reason)
        # Durable before the first byte, in a commit shared with concurrent downloads.
        ctx.audit.record(event, use=principal.link)
    data_key, blob = _stored_copy(ctx, dataset.id, entry)
    damage = Event("file.corrupt", principal.audit_actor, outcome="error", dataset_id=dataset.id, version=number,
                   file=entry.path, byte_range=f"{start}-{end}" if partial else None, client=client,
                   link_id=link.id if link is not None else None, grant_id=grant.id if grant is not None else None)  # fmt: skip
    return FileRead(entry.path, entry.size, entry.sha256, start, end, partial, ctx.store,
                    dataset.id if data_key else None, data_key, _report_damage(ctx, damage), blob)  # fmt: skip


def _record_denial(ctx, event: Event, visible: bool) -> None:
    """Write a denied read's event, bounded: a client (an address, an IPv6 /64) is refused after
    too many denials, and repeats of the same denial (client, file, actor) within the window are
    counted into the next event's ``details.repeats`` instead of each writing its own fsync'd event.
    The first denial of each is always written, so the attempt itself is never lost."""
    if event.client is None:  # in-process callers (notebook, CLI): no anonymous flood to bound
        with ctx.audit.transaction() as s:
            ctx.audit.append(s, event)
        return
    key = (ratelimit.client_key(event.client), event.actor, event.dataset_id, event.version, event.file)
    try:
        ctx.denied_reads.check(event.client)
    except RateLimited as exc:
        ctx.denial_repeats.count(key)
        if visible:
            exc.message = "too many denied downloads from your address; try again later"
            raise
        # Whoever may not even see the dataset gets its usual answer (a 404 from the route),
        # never a 429 that would tell a real file name from a guess.
        raise AccessDenied(event.reason) from None
    # The limiter's count and the repeat in one cheap commit; only a record writes an event.
    if ctx.denied_reads.failed(event.client, also=lambda conn: ctx.denial_repeats.repeat(conn, key)):
        return
    with ctx.audit.transaction() as s:
        # Taken with the event: a repeat counted by any process (even one killed since) is in it once.
        repeats = ctx.denial_repeats.take(s, key)
        if repeats is None:
            return  # another process recorded it a moment ago; this one is counted for the next
        if repeats:
            event.details = {**(event.details or {}), "repeats": repeats}
        ctx.audit.append(s, event)


def record_pending_denials(ctx) -> None:
    """On shutdown: the repeats of denials this process saw that no event carries yet (counted
    here or in another process), in one commit."""
    if not ctx.denial_repeats.pending():
        return
    with ctx.audit.transaction() as s:
        for (client, actor, dataset_id, version, path), repeats in ctx.denial_repeats.drain(s):
            ctx.audit.append(s, Event("file.denied", actor, outcome="denied", dataset_id=dataset_id, version=version,
                                      file=path, client=client, reason="repeats not yet recorded when the server stopped",
                                      details={"repeats": repeats}))  # fmt: skip


def _report_damage(ctx, event: Event) -> Callable[[crypto.DamagedFile], None]:
    def report(exc: crypto.DamagedFile) -> None:
        event.reason = exc.problem
        try:
            ctx.audit.record(event)
        except DataShareError:
            pass  # the read fails either way; nothing wrong is served
    return report


def _refuse_damaged(ctx, dataset, decision, principal, entry, number, client, link, grant) -> None:
    """A file the store check found damaged is never served, not even its ETag: a 500 saying
    so. Where reads are audited the refusal is too (the damage itself was recorded when found)."""
    if decision.audited:
        ctx.audit.record(Event("file.corrupt", principal.audit_actor, outcome="refused", dataset_id=dataset.id,
                               version=number, file=entry.path, reason=entry.damage, client=client,
                               link_id=link.id if link is not None else None,
                               grant_id=grant.id if grant is not None else None))  # fmt: skip
    raise crypto.DamagedFile(entry.damage or "found by the store check")
