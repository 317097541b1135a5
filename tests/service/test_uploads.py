"""``PUT api/files/{path}`` at the service: files into the caller's own folder, kept only when
their SHA-256 is the announced one, in resumable chunks; then shared from there."""

from __future__ import annotations

import hashlib
import http.client

import pytest

from ..conftest import db_url_for
from .process import Service

BYTES = bytes(range(256)) * 40  # 10,240 bytes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path)
    for user in ("alice", "carol"):
        (s.root / user).mkdir()
    s.alice, s.carol = s.token("alice"), s.token("carol")
    s.start()
    yield s
    s.stop()


def put(service, path, body: bytes, token, digest=None, content_range=None):
    headers = {"X-File-SHA256": digest or sha(body), "Content-Length": str(len(body))}
    if content_range:
        headers["Content-Range"] = content_range
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    conn.request("PUT", f"/api/files/{path}", body=body, headers=headers | {"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out


def test_a_file_is_kept_only_with_its_announced_hash_then_shared(service):
    status, body = put(service, "results/run1/data.bin", BYTES, service.alice)
    assert status == 200 and b'"complete": true' in body, body
    assert (service.root / "alice" / "results" / "run1" / "data.bin").read_bytes() == BYTES

    status, body = put(service, "results/run1/other.bin", BYTES, service.alice, digest=sha(b"something else"))
    assert status == 400 and b'"field": "sha256"' in body
    folder = service.root / "alice" / "results" / "run1"
    assert sorted(p.name for p in folder.iterdir()) == ["data.bin"]  # no part, no file

    status, ds = service.json("POST", "/api/datasets", token=service.alice,
                              body={"path": "results", "title": "Runs", "access": {"level": "reviewer-only"}})  # fmt: skip
    assert status in (200, 201) and [(f["path"], f["sha256"]) for f in ds["files"]] == [("run1/data.bin", sha(BYTES))]


def test_an_interrupted_upload_goes_on_from_what_arrived(service):
    digest = sha(BYTES)
    status, body = put(service, "big.bin", BYTES[:4000], service.alice, digest=digest,
                       content_range=f"bytes 0-3999/{len(BYTES)}")  # fmt: skip
    assert status == 200 and b'"complete": false' in body
    assert service.json("GET", f"/api/files/big.bin?sha256={digest}&size={len(BYTES)}", token=service.alice) == (
        200, {"received": 4000, "complete": False})  # fmt: skip
    assert not (service.root / "alice" / "big.bin").exists()  # nothing in place until it is whole
    # A chunk that does not start where the last one ended is refused, naming where to start.
    status, body = put(service, "big.bin", BYTES[5000:6000], service.alice, digest=digest,
                       content_range=f"bytes 5000-5999/{len(BYTES)}")  # fmt: skip
    assert status == 400 and b'"field": "offset"' in body and b"4000" in body
    status, body = put(service, "big.bin", BYTES[4000:], service.alice, digest=digest,
                       content_range=f"bytes 4000-{len(BYTES) - 1}/{len(BYTES)}")  # fmt: skip
    assert status == 200 and b'"complete": true' in body
    assert (service.root / "alice" / "big.bin").read_bytes() == BYTES
    assert service.json("GET", f"/api/files/big.bin?sha256={digest}&size={len(BYTES)}", token=service.alice) == (
        200, {"received": len(BYTES), "complete": True})  # fmt: skip


@pytest.mark.parametrize("path, field", [
    ("../carol/x.bin", "path"), ("a/../../carol/x.bin", "path"), (".ssh/authorized_keys", "path"),
    ("a/.hidden", "path"), ("%2E%2E/carol/x.bin", "path"),
])  # fmt: skip
def test_nobody_writes_outside_their_own_folder(service, path, field):
    status, body = put(service, path, b"x", service.alice)
    assert status in (400, 404), body
    if status == 400:
        assert f'"field": "{field}"'.encode() in body
    assert list((service.root / "carol").iterdir()) == [] and not (service.root / "alice" / ".ssh").exists()


def test_a_user_s_first_upload_makes_their_folder(service):
    bob = service.token("bob")
    assert not (service.root / "bob").exists()
    assert put(service, "first.txt", b"hello", bob)[0] == 200
    assert (service.root / "bob" / "first.txt").read_bytes() == b"hello"
    assert (service.root / "bob").stat().st_mode & 0o077 == 0  # nobody else's on the machine


def test_each_token_writes_into_its_own_user_s_folder_only(service):
    assert put(service, "notes.txt", b"carol's", service.carol)[0] == 200
    assert (service.root / "carol" / "notes.txt").read_bytes() == b"carol's"
    assert not (service.root / "alice" / "notes.txt").exists()
    assert put(service, "notes.txt", b"x", "dsa_" + "A" * 43)[0] == 401
    status, body = put(service, "notes.txt", b"x", service.carol, content_range="bytes 0-9/5")
    assert status == 400 and b"Content-Range" in body


def test_a_file_past_tornado_s_default_body_limit_streams_through(service):
    big = b"\x00" * (101 << 20)  # tornado refuses bodies over 100 MiB unless the handler lifts it
    status, body = put(service, "big.bin", big, service.alice)
    assert status == 200 and b'"complete": true' in body, body
    assert (service.root / "alice" / "big.bin").stat().st_size == len(big)


def test_the_configured_most_bytes_per_request_is_kept(tmp_path):
    s = Service(tmp_path, "--DataShareApp.max_upload_bytes=1000")
    (s.root / "alice").mkdir()
    token = s.token("alice")
    s.start()
    try:
        status, body = put(s, "a.bin", b"x" * 1001, token)
        assert status == 400 and b'"field": "Content-Length"' in body
        assert put(s, "a.bin", b"x" * 1000, token)[0] == 200
    finally:
        s.stop()


def test_a_share_holds_the_folder_to_the_client_s_manifest(service):
    """What a client uploads and then shares is what it meant: a file changed meanwhile (another
    upload under the same path) is refused before anything is stored."""
    assert put(service, "run/a.bin", BYTES, service.alice)[0] == 200
    meant = [{"path": "a.bin", "sha256": sha(BYTES)}]
    assert put(service, "run/a.bin", b"replaced", service.alice)[0] == 200
    status, body = service.json("POST", "/api/datasets", token=service.alice,
                                body={"path": "run", "title": "Run", "expected_files": meant})  # fmt: skip
    assert status == 400 and body["field"] == "expected_files" and "a.bin" in body["message"]
    assert service.json("GET", "/api/datasets", token=service.alice) == (200, {"datasets": [], "next": None})
    assert put(service, "run/a.bin", BYTES, service.alice)[0] == 200
    status, ds = service.json("POST", "/api/datasets", token=service.alice,
                              body={"path": "run", "title": "Run", "expected_files": meant})  # fmt: skip
    assert status in (200, 201) and ds["files"][0]["sha256"] == sha(BYTES)


# Users may write their folder at the service by other means too (a shared home, NFS): links
# planted there must lead nowhere, whatever moment they appear at.


def test_a_part_file_planted_as_a_link_is_refused_and_its_target_untouched(service):
    victim = service.root / "carol" / "results.csv"
    victim.write_bytes(b"id,value\n1,10\n")
    digest = sha(b"anything")
    (service.root / "alice" / f".x.csv.{digest[:16]}.datashare-part").symlink_to(victim)
    status, body = service.json("GET", f"/api/files/x.csv?sha256={digest}&size=1000", token=service.alice)
    assert status == 400 and body["field"] == "path", body  # not carol's file's size either
    status, body = put(service, "x.csv", b"9,EVIL\n", service.alice, digest, "bytes 0-6/1000")
    assert status == 400, body
    assert victim.read_bytes() == b"id,value\n1,10\n"


def test_a_folder_on_the_way_that_is_a_link_leads_nowhere(service):
    (service.root / "carol" / "data").mkdir()
    (service.root / "carol" / "data" / "keep.txt").write_text("carol's")
    (service.root / "alice" / "a").symlink_to(service.root / "carol")
    status, body = put(service, "a/data/new.txt", b"x", service.alice)
    assert status == 400 and b'"field": "path"' in body, body
    for path in ("a/data", "a/data/keep.txt"):
        status, body = service.json("DELETE", f"/api/files/{path}", token=service.alice)
        assert status == 404, body
    assert (service.root / "carol" / "data" / "keep.txt").read_text() == "carol's"
    status, body = service.json("DELETE", "/api/files/a", token=service.alice)  # the link itself goes
    assert status == 200 and body == {"removed_files": 1}
    assert not (service.root / "alice" / "a").is_symlink() and (service.root / "carol" / "data").is_dir()


def test_the_store_is_never_removed_through_a_user_s_folder(tmp_path):
    # A set-up that puts the data dir inside the root, with a user of the same name as its folder.
    s = Service(tmp_path)
    s.data = s.root / "store"
    s.db_url = db_url_for(s.data)
    token = s.token("store")
    s.start()
    try:
        for path in ("audit-signing.key", "store"):
            status, body = s.json("DELETE", f"/api/files/{path}", token=token)
            assert status == 400 and body["field"] == "path", (path, body)
        status, body = s.json("DELETE", "/api/files/../store", token=token)
        assert status in (400, 404)
        assert (s.data / "audit-signing.key").exists()
    finally:
        s.stop()


def put_part(service, path, body: bytes, first: int, size: int, upload: str, digest: str | None = None):
    headers = {"X-Upload-Id": upload, "Content-Range": f"bytes {first}-{first + len(body) - 1}/{size}",
               "Content-Length": str(len(body)), "Authorization": f"Bearer {service.alice}"}  # fmt: skip
    if digest:
        headers["X-File-SHA256"] = digest
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    conn.request("PUT", f"/api/files/{path}", body=body, headers=headers)
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out


def test_named_by_an_upload_id_the_hash_comes_with_the_last_bytes(service):
    """A client hashes a big file as it sends it: the hash comes with the request of its last bytes."""
    upload, half = "u" + "A" * 21, len(BYTES) // 2
    assert put_part(service, "big.bin", BYTES[:half], 0, len(BYTES), upload) == (
        200, b'{"received": 5120, "complete": false}')  # fmt: skip
    status, state = service.json("GET", f"/api/files/big.bin?upload={upload}&size={len(BYTES)}", token=service.alice)
    assert state == {"received": half, "complete": False}
    status, body = put_part(service, "big.bin", BYTES[half:], half, len(BYTES), upload)  # no hash with the last bytes
    assert status == 400 and b'"field": "sha256"' in body
    status, body = put_part(service, "big.bin", BYTES[half:], half, len(BYTES), upload, sha(BYTES))
    assert status == 200 and b'"complete": true' in body, body
    assert (service.root / "alice" / "big.bin").read_bytes() == BYTES
    for bad in ("short", "x" * 44, "with/slash" + "a" * 10):
        status, body = put_part(service, "other.bin", b"x", 0, 2, bad)
        assert status == 400 and b'"field": "upload"' in body, bad


def test_a_part_changed_between_two_requests_is_hashed_whole_again(service):
    upload, half = "B" * 22, len(BYTES) // 2
    assert put_part(service, "t.bin", BYTES[:half], 0, len(BYTES), upload)[0] == 200
    (part,) = (service.root / "alice").glob(".t.bin.*.datashare-part")
    part.write_bytes(b"\0" * half)  # the same size, other bytes (the owner may write their folder)
    status, body = put_part(service, "t.bin", BYTES[half:], half, len(BYTES), upload, sha(BYTES))
    assert status == 400 and b'"field": "sha256"' in body, body  # never kept as the announced file
    assert not (service.root / "alice" / "t.bin").exists()


def requests_logged(service, method: str, path: str, at_least: int = 0) -> int:
    """Requests in the service's access log, which is written just after each answer is sent."""
    import time

    deadline = time.monotonic() + 10
    while True:
        n = service.log.read_text().count(f"{method} /api/files/{path}")
        if n >= at_least or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def test_the_client_sends_a_new_file_in_one_request_and_resumes_one_begun(service, tmp_path):
    from jupyter_datashare.client import uploads
    from jupyter_datashare.client.connection import Service as Client

    client = Client(f"http://127.0.0.1:{service.port}/", service.alice)
    local = tmp_path / "local.bin"
    local.write_bytes(BYTES)
    with open(local, "rb") as f:
        assert uploads.send(client, f, "fresh.bin") == sha(BYTES)
    assert (service.root / "alice" / "fresh.bin").read_bytes() == BYTES
    assert (requests_logged(service, "PUT", "fresh.bin", at_least=1), requests_logged(service, "GET", "fresh.bin")) == (1, 0)

    # An earlier try sent the first 4,000 bytes: the service names the offset, the client goes on.
    status, _ = put(service, "begun.bin", BYTES[:4000], service.alice, digest=sha(BYTES),
                    content_range=f"bytes 0-3999/{len(BYTES)}")  # fmt: skip
    assert status == 200
    with open(local, "rb") as f:
        assert uploads.send(client, f, "begun.bin") == sha(BYTES)
    assert (service.root / "alice" / "begun.bin").read_bytes() == BYTES
    assert requests_logged(service, "GET", "begun.bin", at_least=1) == 1


def test_checked_at_share_a_file_is_hashed_once_when_it_is_frozen(service):
    """``X-Upload-Check: share``: not hashed on arrival (the client shares it next); the share's
    freeze checks it against the manifest, so bytes damaged on the way are never shared."""
    damaged = bytearray(BYTES)
    damaged[5000] ^= 1
    headers = {"X-Upload-Check": "share"}
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    conn.request("PUT", "/api/files/run/a.bin", body=bytes(damaged), headers=headers | {
        "X-File-SHA256": sha(BYTES), "Authorization": f"Bearer {service.alice}"})  # fmt: skip
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b'{"received": 10240, "complete": true}')  # kept, as announced
    meant = [{"path": "a.bin", "sha256": sha(BYTES)}]
    status, body = service.json("POST", "/api/datasets", token=service.alice,
                                body={"path": "run", "title": "Run", "expected_files": meant})  # fmt: skip
    assert status == 400 and body["field"] == "expected_files" and "a.bin" in body["message"]
    assert service.json("GET", "/api/datasets", token=service.alice) == (200, {"datasets": [], "next": None})
    conn.request("PUT", "/api/files/run/b.bin", body=b"x", headers={"X-Upload-Check": "later", "X-File-SHA256": sha(b"x"),
                                                                  "Authorization": f"Bearer {service.alice}"})  # fmt: skip
    r = conn.getresponse()
    assert r.status == 400 and b'"field": "X-Upload-Check"' in r.read()
    conn.close()


def test_an_upload_that_would_fill_the_disk_is_refused_before_a_byte_is_written(tmp_path):
    free = __import__("shutil").disk_usage(tmp_path).free
    s = Service(tmp_path, f"--DataShareApp.upload_keep_free_bytes={free + (1 << 30)}")
    (s.root / "alice").mkdir()
    token = s.token("alice")
    s.start()
    try:
        status, body = put(s, "a.bin", BYTES, token)
        assert status == 507 and b"bytes free" in body, body
        assert list((s.root / "alice").iterdir()) == []  # no part file, nothing
        # A client asks where to go on before it retries: the answer says why, too.
        status, body = s.json("GET", f"/api/files/a.bin?sha256={sha(BYTES)}&size={len(BYTES)}", token=token)
        assert status == 507 and "bytes free" in body["message"]
    finally:
        s.stop()
