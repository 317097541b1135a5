"""The at-rest stream format: round trips, random access, and every kind of damage detected."""

import hashlib
import io
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jupyter_datashare.core import crypto, datasets, links, reads
from jupyter_datashare.core.crypto import HEADER_SIZE, SEGMENT, STORED_SEGMENT, DamagedFile, EncryptedFile

KEY = bytes(range(32))
SIZES = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 17]


def seal(data: bytes, key: bytes = KEY) -> tuple[bytes, str]:
    out = io.BytesIO()
    sha, size = crypto.encrypt(key, io.BytesIO(data), out)
    assert size == len(data)
    return out.getvalue(), sha


def opened(tmp_path, stored: bytes, size: int, sha: str, key: bytes = KEY, name="blob"):
    path = tmp_path / name
    path.write_bytes(stored)
    return EncryptedFile(open(path, "rb"), key, size, sha)


def read(tmp_path, stored, size, sha, start=0, end=None, key=KEY) -> bytes:
    end = size - 1 if end is None else end
    return b"".join(opened(tmp_path, stored, size, sha, key).chunks(start, end))


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_keeps_size_and_checksum_of_the_original(tmp_path, size):
    data = os.urandom(size)
    stored, sha = seal(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert len(stored) == crypto.stored_size(size) == HEADER_SIZE + size + 16 * max(1, -(-size // SEGMENT))
    assert size < 16 or data[:16] not in stored  # nothing of the plaintext is visible
    assert read(tmp_path, stored, size, sha) == data


def test_the_format_is_the_documented_one(tmp_path):
    """An independent reader, written from the module docstring, decrypts the first two segments."""
    data = os.urandom(SEGMENT + 100)
    stored, sha = seal(data)
    header = stored[:HEADER_SIZE]
    assert header[:7] == b"DSHAEAD" and header[7] == 1
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=header[8:40], info=b"jupyter-datashare file key v1")
    aead = AESGCM(hkdf.derive(KEY))
    first = stored[HEADER_SIZE : HEADER_SIZE + STORED_SEGMENT]
    assert aead.decrypt((0).to_bytes(11, "big") + b"\x00", first, header) == data[:SEGMENT]
    last = stored[HEADER_SIZE + STORED_SEGMENT :]
    assert aead.decrypt((1).to_bytes(11, "big") + b"\x01", last, header + bytes.fromhex(sha)) == data[SEGMENT:]


def test_two_encryptions_of_one_file_differ(tmp_path):
    data = b"same content" * 1000
    (a, sha), (b, _) = seal(data), seal(data)
    assert a != b  # a fresh salt, so a fresh file key, every time
    assert read(tmp_path, a, len(data), sha) == read(tmp_path, b, len(data), sha) == data


def test_a_range_decrypts_only_the_segments_it_overlaps(tmp_path):
    size = 10 * SEGMENT + 5
    data = os.urandom(size)
    stored, sha = seal(data)
    for start, end, expected in [
        (0, 9, 2),  # first segment, plus the last one checked up front
        (SEGMENT - 1, SEGMENT, 3),  # straddles two segments
        (4 * SEGMENT + 3, 6 * SEGMENT - 1, 3),
        (size - 3, size - 1, 1),  # a suffix: the last segment, once
        (0, size - 1, 11),  # everything, each segment once
    ]:
        f = opened(tmp_path, stored, size, sha)
        assert b"".join(f.chunks(start, end, chunk_size=3 * SEGMENT)) == data[start : end + 1]
        assert f.decrypted == expected, (start, end)


def test_chunks_stay_bounded(tmp_path):
    size = 9 * SEGMENT + 1
    stored, sha = seal(os.urandom(size))
    sizes = [len(c) for c in opened(tmp_path, stored, size, sha).chunks(0, size - 1, chunk_size=4 * SEGMENT)]
    assert max(sizes) <= 4 * SEGMENT and sum(sizes) == size


def flip(stored: bytes, offset: int) -> bytes:
    b = bytearray(stored)
    b[offset] ^= 0x01
    return bytes(b)


def test_a_flipped_bit_fails_that_segment_and_only_reads_that_cover_it(tmp_path):
    size = 5 * SEGMENT
    data = os.urandom(size)
    stored, sha = seal(data)
    damaged = flip(stored, HEADER_SIZE + 2 * STORED_SEGMENT + 1234)  # inside segment 3 of 5
    with pytest.raises(DamagedFile) as info:
        read(tmp_path, damaged, size, sha)
    assert info.value.segment == 2 and "segment 3 of 5" in info.value.message
    # Ranges around it are still served, byte for byte.
    assert read(tmp_path, damaged, size, sha, 0, 2 * SEGMENT - 1) == data[: 2 * SEGMENT]
    assert read(tmp_path, damaged, size, sha, 3 * SEGMENT, size - 1) == data[3 * SEGMENT :]


def test_every_stored_byte_is_covered(tmp_path):
    """A flip anywhere (header, ciphertext, tag) makes a full read fail."""
    size = 2 * SEGMENT + 10
    stored, sha = seal(os.urandom(size))
    for offset in [0, 7, 8, 39, HEADER_SIZE, HEADER_SIZE + SEGMENT + 3, HEADER_SIZE + STORED_SEGMENT - 1, len(stored) - 1]:
        with pytest.raises(DamagedFile):
            read(tmp_path, flip(stored, offset), size, sha)


def test_truncation_and_extension_are_detected(tmp_path):
    size = 3 * SEGMENT
    data = os.urandom(size)
    stored, sha = seal(data)
    for bad in (stored[:-1], stored[: HEADER_SIZE + 2 * STORED_SEGMENT], stored + b"\0"):
        with pytest.raises(DamagedFile):
            read(tmp_path, bad, size, sha)


def test_a_stream_cut_at_a_segment_boundary_fails_even_if_the_size_was_forged_too(tmp_path):
    """Two segments of a three-segment file do not pass as a whole file: the last segment is
    marked as last (nonce flag) and bound to the whole file's checksum."""
    data = os.urandom(3 * SEGMENT)
    stored, _ = seal(data)
    cut = stored[: HEADER_SIZE + 2 * STORED_SEGMENT]
    forged_sha = hashlib.sha256(data[: 2 * SEGMENT]).hexdigest()
    with pytest.raises(DamagedFile) as info:
        read(tmp_path, cut, 2 * SEGMENT, forged_sha)
    assert info.value.segment == 1


def test_reordered_segments_are_detected(tmp_path):
    size = 3 * SEGMENT + 1
    stored, sha = seal(os.urandom(size))
    first, second = (stored[HEADER_SIZE + i * STORED_SEGMENT : HEADER_SIZE + (i + 1) * STORED_SEGMENT] for i in (0, 1))
    swapped = stored[:HEADER_SIZE] + second + first + stored[HEADER_SIZE + 2 * STORED_SEGMENT :]
    with pytest.raises(DamagedFile) as info:
        read(tmp_path, swapped, size, sha, 0, 10)
    assert info.value.segment == 0


def test_segments_and_whole_files_cannot_be_swapped_between_files_of_one_dataset(tmp_path):
    size = 2 * SEGMENT
    a, b = os.urandom(size), os.urandom(size)
    (sa, sha_a), (sb, _) = seal(a), seal(b)  # the same data key, as for two files of a dataset
    mixed = sa[: HEADER_SIZE + STORED_SEGMENT] + sb[HEADER_SIZE + STORED_SEGMENT :]
    with pytest.raises(DamagedFile):
        read(tmp_path, mixed, size, sha_a)
    # B's whole stored file under A's name: its last segment is bound to B's checksum.
    with pytest.raises(DamagedFile):
        read(tmp_path, sb, size, sha_a, 0, 10)


def test_another_datasets_key_does_not_decrypt(tmp_path):
    stored, sha = seal(b"private measurements")
    with pytest.raises(DamagedFile):
        read(tmp_path, stored, 20, sha, key=os.urandom(32))


def test_not_an_encrypted_file(tmp_path):
    plain = b"x" * 100
    with pytest.raises(DamagedFile) as info:
        read(tmp_path, plain, 100, hashlib.sha256(plain).hexdigest())
    assert "no encryption header" in info.value.message
    stored, sha = seal(plain)
    future = stored[:7] + b"\x02" + stored[8:]
    with pytest.raises(DamagedFile, match="unknown format version 2"):
        read(tmp_path, future, 100, sha)


# -- through reads.open_file: what a reader of a damaged dataset gets -----------------------------


@pytest.fixture
def reviewer_only(core, server_root):
    (server_root / "d").mkdir()
    data = os.urandom(4 * SEGMENT + 99)
    (server_root / "d" / "big.bin").write_bytes(data)
    ds_id = datasets.share(core, "ada-owner", {"path": "d", "title": "T", "access": {"level": "reviewer-only"}})
    _, secret = links.create(core, "ada-owner", ds_id, {})
    return ds_id, secret, data


def corrupt_segment(core, ds_id: str, data: bytes, index: int) -> None:
    path = core.store.path(hashlib.sha256(data).hexdigest(), ds_id)
    stored = path.read_bytes()
    os.chmod(path, 0o600)
    path.write_bytes(flip(stored, HEADER_SIZE + index * STORED_SEGMENT + 77))


def test_a_damaged_segment_fails_the_read_and_is_audited(core, reviewer_only):
    ds_id, secret, data = reviewer_only
    corrupt_segment(core, ds_id, data, 2)
    link, ds, _ = links.resolve(core, secret, "10.0.0.7")
    principal = links.principal(link)
    # A range that does not touch segment 3 is served, correctly.
    fr = reads.open_file(core, ds, principal, "big.bin", range_header=f"bytes=0-{2 * SEGMENT - 1}", client="10.0.0.7")
    assert fr.encrypted and b"".join(fr.chunks()) == data[: 2 * SEGMENT]
    fr = reads.open_file(core, ds, principal, "big.bin", range_header=f"bytes={3 * SEGMENT}-", client="10.0.0.7")
    assert b"".join(fr.chunks()) == data[3 * SEGMENT :]
    # One that does fails, after handing out only the bytes before it; nothing wrong.
    fr = reads.open_file(core, ds, principal, "big.bin", client="10.0.0.7")
    got = []
    with pytest.raises(DamagedFile, match="segment 3 of 5"):
        got.extend(fr.chunks(chunk_size=SEGMENT))
    assert b"".join(got) == data[: 2 * SEGMENT]
    last = core.audit.events(newest_first=True, limit=1)[0]
    assert (last["action"], last["outcome"], last["file"], last["client"]) == ("file.corrupt", "error", "big.bin", "10.0.0.7")
    assert last["link_id"] == link.id and "segment 3 of 5" in last["reason"]
    assert core.audit.verify().ok


def test_a_ring_of_buffers_keeps_earlier_views_valid_while_later_ones_are_decrypted(tmp_path):
    data = os.urandom(7 * SEGMENT + 5)
    stored, sha = seal(data)
    views = list(opened(tmp_path, stored, len(data), sha).views(0, len(data) - 1, SEGMENT, buffers=3))
    # Each view is valid until three more have been taken: so the last three still hold their bytes.
    assert [bytes(v) for v in views[-3:]] == [data[5 * SEGMENT : 6 * SEGMENT], data[6 * SEGMENT : 7 * SEGMENT], data[7 * SEGMENT :]]
    assert len({id(v.obj) for v in views}) == 3  # and no more than three buffers were made


def test_a_small_range_makes_one_buffer_whatever_the_ring_size(tmp_path):
    data = os.urandom(3 * SEGMENT)
    stored, sha = seal(data)
    views = list(opened(tmp_path, stored, len(data), sha).views(10, 20, 1 << 20, buffers=3))
    assert [bytes(v) for v in views] == [data[10:21]] and len(views[0].obj) == SEGMENT


class Trickle(io.RawIOBase):
    """A source that returns short reads and a destination that takes part of each write, as
    pipes and unbuffered files may."""

    def __init__(self, data: bytes = b"", step: int = 10_000):
        self.data, self.pos, self.step, self.written = data, 0, step, bytearray()

    def readable(self):
        return True

    def writable(self):
        return True

    def readinto(self, buf):
        n = min(len(buf), self.step, len(self.data) - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n

    def write(self, data):
        n = min(len(data), self.step)
        self.written += bytes(data[:n])
        return n


def independent_decrypt(stored: bytes, sha: str, key: bytes = KEY) -> bytes:
    """Every segment, decrypted from the module docstring alone (flags, counters, final aad)."""
    header = stored[:HEADER_SIZE]
    aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=header[8:40], info=b"jupyter-datashare file key v1").derive(key))
    body = stored[HEADER_SIZE:]
    segments = [body[i : i + STORED_SEGMENT] for i in range(0, len(body), STORED_SEGMENT)]
    out = b""
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        nonce = i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out += aead.decrypt(nonce, seg, header + bytes.fromhex(sha) if last else header)
    return out


@pytest.mark.parametrize("size", [crypto.ENCRYPT_BLOCK - 1, crypto.ENCRYPT_BLOCK, crypto.ENCRYPT_BLOCK + 1,
                                  2 * crypto.ENCRYPT_BLOCK, 2 * crypto.ENCRYPT_BLOCK + SEGMENT + 5])  # fmt: skip
def test_files_across_the_encryption_blocks_keep_the_format_segment_by_segment(size):
    data = os.urandom(size)
    stored, sha = seal(data)
    assert len(stored) == crypto.stored_size(size)
    assert independent_decrypt(stored, sha) == data


def test_short_reads_and_partial_writes_lose_no_byte():
    data = os.urandom(2 * crypto.ENCRYPT_BLOCK + 3 * SEGMENT + 7)
    src, dst = Trickle(data, step=50_000), Trickle(step=30_000)
    sha, size = crypto.encrypt(KEY, src, dst)
    assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
    assert independent_decrypt(bytes(dst.written), sha) == data
