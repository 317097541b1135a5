"""Ed25519 checkpoint signing in the shape of C2SP signed notes / tlog checkpoints.

A checkpoint note reads::

    <origin>
    <log size>
    <base64 head hash>
    <time>

    — <origin> <base64(4-byte key id || 64-byte signature)>

so it can be handed to anyone (a witness, a journal, a git repository) and checked later with
the public key alone.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import KeyUnavailable
from .settings import SIGNING_KEY_FILE

KEY_FILE = SIGNING_KEY_FILE
SIG_PREFIX = "\u2014 "
log = logging.getLogger(__name__)


def load_or_create_key(data_dir: str | os.PathLike, key_file: str | os.PathLike = "", *,
                       create: bool = True) -> Ed25519PrivateKey:  # fmt: skip
    """The signing key: ``key_file`` (best away from the data), else ``<data_dir>/audit-signing.key``.

    Made on first use, readable by its owner only (0600). With ``create`` false (the log already
    holds checkpoints signed with the missing key) a missing file is an error: a new key would
    make every earlier checkpoint look forged.
    """
    path = Path(key_file).expanduser() if key_file else Path(data_dir) / KEY_FILE
    if not path.exists():
        if not create:
            beside = Path(data_dir) / KEY_FILE
            hint = f" (or move {beside} there)" if key_file and beside.exists() else ""
            raise KeyUnavailable(
                f"the audit signing key file {path} is missing, but the audit log holds checkpoints signed "
                f"with it: restore it from a backup{hint}, or configure c.DataShareApp.signing_key_file"
            )
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written aside, then linked into place: another process never reads half a key.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(key.private_bytes_raw())
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:  # another process won the race; use its key
            return load_or_create_key(data_dir, key_file)
        finally:
            tmp.unlink(missing_ok=True)
        return key
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        try:
            os.chmod(path, 0o600)  # never leave the key readable by others
        except OSError:  # a read-only mounted secret: its owner decides
            log.warning("the audit signing key file %s is readable by others and cannot be changed", path)
    raw = path.read_bytes()
    if len(raw) != 32:
        try:  # a mounted secret usually holds text: the key in base64
            raw = base64.b64decode(raw.strip(), validate=True)
        except ValueError:
            pass
    if len(raw) != 32:
        raise KeyUnavailable(f"{path} is not an audit signing key (32 bytes, or 32 bytes in base64)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def origin_for(key) -> str:
    return "jupyter-datashare/" + hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def key_id(origin: str, pub: bytes) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n" + b"\x01" + pub).digest()[:4]


def verifier_key(origin: str, pub: bytes) -> str:
    """The public key in signed-note verifier form: ``name+keyid+base64(0x01||pub)``."""
    encoded = base64.b64encode(b"\x01" + pub).decode()
    return f"{origin}+{key_id(origin, pub).hex()}+{encoded}"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    head_hash: str  # hex
    time: str


def sign_checkpoint(key: Ed25519PrivateKey, cp: Checkpoint) -> str:
    body = f"{cp.origin}\n{cp.size}\n{base64.b64encode(bytes.fromhex(cp.head_hash)).decode()}\n{cp.time}\n"
    sig = key.sign(body.encode())
    kid = key_id(cp.origin, public_bytes(key))
    return body + "\n" + f"{SIG_PREFIX}{cp.origin} {base64.b64encode(kid + sig).decode()}\n"


class BadNote(ValueError):
    pass


def open_checkpoint(note: str, pub: bytes) -> Checkpoint:
    """Check the note's signature with ``pub`` and return what it vouches for."""
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise BadNote("not a signed note")
    lines = body.split("\n")
    if len(lines) < 3:
        raise BadNote("checkpoint too short")
    origin = lines[0]
    kid = key_id(origin, pub)
    text = (body + "\n").encode()
    for line in sigs.splitlines():
        if not line.startswith(SIG_PREFIX):
            continue
        name, _, b64 = line[len(SIG_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError:
            continue
        if name != origin or raw[:4] != kid:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(raw[4:], text)
        except InvalidSignature:
            raise BadNote("signature does not verify") from None
        try:
            size = int(lines[1])
            head = base64.b64decode(lines[2], validate=True).hex()
        except ValueError:
            raise BadNote("malformed checkpoint body") from None
        return Checkpoint(origin, size, head, lines[3] if len(lines) > 3 else "")
    raise BadNote("no signature by this log's key")
