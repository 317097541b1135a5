"""How a file of a non-open dataset is stored: a chunked AEAD stream with random access.

The construction is STREAM (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as in age and Tink::

    header    = MAGIC (7 bytes) || VERSION (1 byte) || salt (32 random bytes)
    file key  = HKDF-SHA256(dataset data key, salt, info="jupyter-datashare file key v1")
    segment i = AES-256-GCM(file key, nonce_i, plaintext[i*64KiB : (i+1)*64KiB], aad)
    nonce_i   = i as 11 bytes big-endian || 0x01 for the last segment, else 0x00
    aad       = header, and for the last segment header || SHA-256 of the whole plaintext

Why each part:
- a fresh key per file (random salt) means counter nonces never repeat under one key, and a
  segment moved from another file does not authenticate;
- the counter in the nonce catches reordered or dropped segments, the last-segment flag catches
  a file cut at a segment boundary;
- the plaintext's SHA-256 in the last segment ties the stream to its name in the store, so a
  whole stored file swapped for another of the same dataset does not authenticate either. Every
  read therefore checks the last segment first (it also has to, for suffix ranges: see
  age's agead.md).

Each segment authenticates on its own, so a byte range decrypts only the segments it overlaps
(plus the last one). A segment that fails raises ``DamagedFile``: never a wrong byte.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from typing import BinaryIO, Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DamagedFile

MAGIC = b"DSHAEAD"
VERSION = 1
SALT_SIZE = 32
HEADER_SIZE = len(MAGIC) + 1 + SALT_SIZE
SEGMENT = 64 * 1024  # plaintext bytes per segment
TAG = 16
STORED_SEGMENT = SEGMENT + TAG
KEY_SIZE = 32
WINDOW = 16 << 20  # bytes of a stored file mapped at a time when reading it
_INFO = b"jupyter-datashare file key v1"
_LAST, _NOT_LAST = b"\x01", b"\x00"
_HAS_DECRYPT_INTO = hasattr(AESGCM, "decrypt_into")  # not in cryptography 44: one copy more there


def segment_count(size: int) -> int:
    """Segments of a plaintext of ``size`` bytes; an empty file still has one (empty, last) segment."""
    return max(1, -(-size // SEGMENT))


def stored_size(size: int) -> int:
    """Length on disk of the encrypted form of ``size`` plaintext bytes."""
    return HEADER_SIZE + size + TAG * segment_count(size)


def _file_aead(data_key: bytes, salt: bytes) -> AESGCM:
    if len(data_key) != KEY_SIZE:
        raise ValueError("a data key is 32 bytes")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_INFO)
    return AESGCM(hkdf.derive(data_key))


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (_LAST if last else _NOT_LAST)


def _read_full(f: BinaryIO, n: int) -> bytes:
    """``n`` bytes, or fewer only at the end of the file (a pipe may return short reads)."""
    data = f.read(n)
    while 0 < len(data) < n:
        more = f.read(n - len(data))
        if not more:
            break
        data += more
    return data


ENCRYPT_BLOCK = 64 * SEGMENT  # plaintext read, hashed and encrypted at a time (4 MiB)
_HAS_ENCRYPT_INTO = hasattr(AESGCM, "encrypt_into")


def _fill(f: BinaryIO, buf: memoryview) -> int:
    """Read into all of ``buf``, or less only at the end of the file; returns the bytes read."""
    n = 0
    while n < len(buf) and (got := f.readinto(buf[n:])):
        n += got
    return n


def size_hint(f: BinaryIO) -> int:
    """How big the file to read is, if it can tell (it may still grow or shrink meanwhile)."""
    try:
        return os.fstat(f.fileno()).st_size
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return ENCRYPT_BLOCK


def _write_all(f: BinaryIO, data: memoryview) -> None:
    while data:  # an unbuffered file may write part of it
        data = data[f.write(data):]


def encrypt(data_key: bytes, src: BinaryIO, dst: BinaryIO, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Encrypt all of ``src`` into ``dst``; returns (SHA-256 hex of the plaintext, its size).

    A block of segments at a time, through reused buffers (one block read ahead: only then is it
    known which segment is the last); each block is written in one call."""
    salt = os.urandom(SALT_SIZE)
    header = MAGIC + bytes([VERSION]) + salt
    aead = _file_aead(data_key, salt)
    digest, size, index = hashlib.sha256(), 0, 0
    _write_all(dst, memoryview(header))
    # No bigger than the file (rounded up to segments): a small file allocates little.
    block = min(ENCRYPT_BLOCK, segment_count(size_hint(src)) * SEGMENT)
    current, following = (memoryview(bytearray(block)) for _ in range(2))
    sealed = memoryview(bytearray(block // SEGMENT * STORED_SEGMENT))
    n = _fill(src, current)
    while True:
        m = _fill(src, following) if n == block else 0
        plain = current[:n]
        digest.update(plain)  # all of it before the last segment, whose aad holds the whole checksum
        size += n
        if progress and n:
            progress(n)
        count = segment_count(n)
        out = 0
        for k in range(count):
            last = not m and k == count - 1
            part = plain[k * SEGMENT : (k + 1) * SEGMENT]
            aad = header + digest.digest() if last else header
            if _HAS_ENCRYPT_INTO:
                aead.encrypt_into(_nonce(index, last), part, aad, sealed[out : out + len(part) + TAG])
            else:  # cryptography < 47: one copy more
                sealed[out : out + len(part) + TAG] = aead.encrypt(_nonce(index, last), part, aad)
            out += len(part) + TAG
            index += 1
        _write_all(dst, sealed[:out])
        if not m:
            return digest.hexdigest(), size
        current, following, n = following, current, m


class EncryptedFile:
    """Random access to one encrypted stored file whose plaintext size and SHA-256 are known
    (they come from the dataset's manifest, not from the file). The caller closes ``f``."""

    def __init__(self, f: BinaryIO, data_key: bytes, size: int, sha256: str):
        self._f = f
        self.size = size
        self.segments = segment_count(size)
        self._sha = bytes.fromhex(sha256)
        self._final: bytes | None = None
        self._mapping: memoryview | None = None
        self._mapped_range = (0, 0)
        self.decrypted = 0  # segments authenticated so far (tests and benchmarks look at this)
        self._header = _read_full(f, HEADER_SIZE)
        if len(self._header) != HEADER_SIZE or self._header[: len(MAGIC)] != MAGIC:
            raise DamagedFile("no encryption header")
        if self._header[len(MAGIC)] != VERSION:
            raise DamagedFile(f"unknown format version {self._header[len(MAGIC)]}")
        actual = os.fstat(f.fileno()).st_size
        if actual != stored_size(size):
            raise DamagedFile(f"{actual} bytes on disk where {stored_size(size)} were expected: truncated or extended")
        self._aead = _file_aead(data_key, self._header[len(MAGIC) + 1 :])

    def _open_into(self, index: int, stored, out) -> None:
        """Decrypt a segment other than the last straight into ``out``."""
        nonce = _nonce(index, False)
        try:
            if _HAS_DECRYPT_INTO:
                self._aead.decrypt_into(nonce, stored, self._header, out)
            else:
                out[:] = self._aead.decrypt(nonce, stored, self._header)
        except InvalidTag:
            raise DamagedFile(f"segment {index + 1} of {self.segments} does not authenticate", index) from None
        self.decrypted += 1

    def verify_final(self) -> None:
        """Authenticate the last segment, which vouches for the whole file's checksum (kept, so
        a range that ends there does not decrypt it twice)."""
        if self._final is None:
            index = self.segments - 1
            self._f.seek(HEADER_SIZE + index * STORED_SEGMENT)
            try:
                self._final = self._aead.decrypt(_nonce(index, True), self._f.read(), self._header + self._sha)
            except InvalidTag:
                raise DamagedFile(f"segment {index + 1} of {self.segments} (the last) does not authenticate", index) from None
            self.decrypted += 1

    def _window(self, offset: int, length: int) -> tuple[memoryview, int]:
        """A read-only mapping of the stored file that covers ``offset`` .. ``offset + length``,
        and where ``offset`` is in it. One mapping serves many chunks (mapping and unmapping
        cost as much as the decryption when done per chunk); memory stays at one window."""
        start, end = self._mapped_range
        if not (start <= offset and offset + length <= end):
            base = offset - offset % mmap.ALLOCATIONGRANULARITY
            size = min(max(WINDOW, offset + length - base), os.fstat(self._f.fileno()).st_size - base)
            # The old mapping goes with its last reference (a traceback may still hold a slice).
            self._mapping = memoryview(mmap.mmap(self._f.fileno(), size, offset=base, access=mmap.ACCESS_READ))
            self._mapped_range = (base, base + size)
        return self._mapping, offset - self._mapped_range[0]

    def _into(self, first: int, stop: int, out: memoryview) -> int:
        """Decrypt segments ``first`` .. ``stop - 1`` into ``out``; returns the bytes written.

        The stored segments are decrypted straight out of a read-only mapping of the file:
        no copy into a buffer first (that copy cost as much as the decryption). Stored files
        are never rewritten in
        place (written once, then renamed; removed by unlink, which keeps a mapping valid),
        and their size was checked on opening.
        """
        last = self.segments - 1
        read_stop = min(stop, last)  # the last segment is already decrypted and kept
        n = 0
        if first < read_stop:
            window, at = self._window(HEADER_SIZE + first * STORED_SEGMENT, (read_stop - first) * STORED_SEGMENT)
            for k in range(read_stop - first):
                self._open_into(first + k, window[at : at + STORED_SEGMENT], out[n : n + SEGMENT])
                at += STORED_SEGMENT
                n += SEGMENT
        if stop > last:
            out[n : n + len(self._final)] = self._final
            n += len(self._final)
        return n

    def views(self, start: int, end: int, chunk_size: int = 1 << 20, buffers: int = 1) -> Iterator[memoryview]:
        """Plaintext bytes ``start`` .. ``end`` (inclusive), about ``chunk_size`` at a time, as views
        of ``buffers`` reused buffers taken in turn: a view stays valid until ``buffers`` more
        have been asked for (so one can be sent while the next ones are decrypted)."""
        if end < start:
            return
        self.verify_final()
        per_step = max(1, chunk_size // SEGMENT)
        first, last = start // SEGMENT, end // SEGMENT
        steps = -(-(last + 1 - first) // per_step)
        size = min(per_step, last + 1 - first) * SEGMENT
        ring = [memoryview(bytearray(size)) for _ in range(max(1, min(buffers, steps)))]
        try:
            for step, a in enumerate(range(first, last + 1, per_step)):
                out = ring[step % len(ring)]
                b = min(a + per_step, last + 1)
                n = self._into(a, b, out)
                lo = start - a * SEGMENT if a == first else 0
                hi = end + 1 - a * SEGMENT if b == last + 1 else n
                yield out[lo:hi]
        finally:
            self._mapping, self._mapped_range = None, (0, 0)  # unmapped with its last reference

    def chunks(self, start: int, end: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Plaintext bytes ``start`` .. ``end`` (inclusive), about ``chunk_size`` at a time."""
        for view in self.views(start, end, chunk_size):
            yield bytes(view)
