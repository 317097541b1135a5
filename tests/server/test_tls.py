"""Behind TLS (the server's own certificate): downloads cannot bypass tornado's SSL stream, so
plain files skip sendfile and encrypted ones decrypt on the event loop; the bytes are the same."""

import datetime
import hashlib
import json
import os

import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from jupyter_datashare.core.crypto import SEGMENT

BIG = os.urandom(5 * SEGMENT + 99)


@pytest.fixture
def certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = tmp_path / "server.crt", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return str(cert_file), str(key_file)


@pytest.fixture
def ds_config():
    return {"download_chunk_size": SEGMENT}


@pytest.fixture
def https(jp_serverapp, jp_web_app, jp_base_url, jp_auth_header, certificate):
    """The server's own web app behind a TLS listener, as with c.ServerApp.certfile/keyfile
    (pytest-jupyter's listener is plain HTTP)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    [sock] = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(jp_web_app, ssl_options=context)
    server.add_sockets([sock])
    port = sock.getsockname()[1]

    async def fetch(path: str, method="GET", body=None, anon=False, headers=None):
        hdrs = {**({} if anon else jp_auth_header), **(headers or {})}
        return await AsyncHTTPClient().fetch(
            f"https://127.0.0.1:{port}{jp_base_url}{path}", method=method, headers=hdrs,
            body=None if body is None else json.dumps(body), validate_cert=False, raise_error=False,
        )  # fmt: skip

    yield fetch
    server.stop()


@pytest.mark.parametrize("level", ["open", "reviewer-only"])
async def test_downloads_over_tls_are_byte_for_byte(https, make_files, jp_serverapp, level):
    make_files({"data/big.bin": BIG})
    r = await https("datashare/api/datasets", "POST", {"path": "data", "title": "T", "access": {"level": level}})
    assert r.code == 201, r.body[:300]
    ds_id = json.loads(r.body)["id"]
    r = await https(f"datashare/api/datasets/{ds_id}/links", "POST", {"label": "R"})
    url = json.loads(r.body)["url"]
    secret_path = url[url.index("datashare/r/") :] + "/files/big.bin"
    full = await https(secret_path, anon=True)
    assert full.code == 200 and full.body == BIG and full.headers["ETag"] == f'"{hashlib.sha256(BIG).hexdigest()}"'
    part = await https(secret_path, anon=True, headers={"Range": f"bytes={SEGMENT - 7}-{3 * SEGMENT + 7}"})
    assert part.code == 206 and part.body == BIG[SEGMENT - 7 : 3 * SEGMENT + 8]
    senders = jp_serverapp.web_app.settings["datashare_senders"]
    assert senders.started == 0  # TLS connections never hand their socket to a sender
