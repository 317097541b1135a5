"""HTTP to the datashare service, with the caller's token: JSON calls, streamed bodies both ways.

One keep-alive connection per thread (uploads run in worker threads); the standard library's
``http.client``, so the CLI and a notebook need nothing more than the core does.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlparse

from ..core.errors import AccessDenied, DataShareError, InvalidInput, NotFound

BLOCK = 1 << 20  # bytes per socket write of a streamed body (http.client's default: 8 KiB)
SLICE = 8 << 20  # bytes per sendfile() of an upload, between two progress reports


class ServiceError(DataShareError):
    """The service's answer to a call that failed: its status and its error, passed on as they are
    (a 400 names the field, as in local mode). ``of`` makes the kind the core would have raised, so
    that callers catch InvalidInput or NotFound whichever back-end answered."""

    def __init__(self, status: int, body: dict):
        # Whole: a refused share's privacy findings ride along, for the form to show as in local mode.
        self.body = {"error": "ServiceError", "message": "", "field": None, **body}
        self.status, self.field = status, self.body["field"]
        DataShareError.__init__(self, self.body["message"] or f"the datashare service answered {status}")

    def to_dict(self) -> dict:
        return dict(self.body)

    @staticmethod
    def of(status: int, body: dict) -> "ServiceError":
        if status == 404:
            return _NotFound(status, body)
        if status == 403:
            return _Denied(status, body)
        if status in (400, 413) and body.get("field"):
            return _Invalid(status, body)
        return ServiceError(status, body)


class _NotFound(ServiceError, NotFound):
    pass


class _Denied(ServiceError, AccessDenied):
    pass


class _Invalid(ServiceError, InvalidInput):
    pass


class ServiceUnreachable(DataShareError):
    status = 502

    def __init__(self, url: str, reason: str):
        super().__init__(f"the datashare service at {url} cannot be reached ({reason})")

    def to_dict(self) -> dict:
        return {"error": "ServiceUnreachable", "message": self.message, "field": None}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def read_token(path: str) -> str:
    """A token from a file (never from a command line: it would show in ``ps``)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        raise InvalidInput("DataShareApp.service_token_file", f"cannot be read ({exc.strerror})") from None
    if not token or any(c.isspace() for c in token):
        raise InvalidInput("DataShareApp.service_token_file", "must hold one token, e.g. dsa_… from `jupyter datashare serve token create`")
    return token


class Service:
    """The service at ``url`` (its base URL: ``https://hub.example.org/services/datashare/``)."""

    def __init__(self, url: str, token: str, *, timeout: float = 300.0, ca_file: str | None = None):
        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.hostname or u.query or u.fragment:
            raise InvalidInput("DataShareApp.service_url", f"{url!r} must be an http:// or https:// URL of the service")
        self.url = url.rstrip("/") + "/"
        self._scheme, self._host, self._port = u.scheme, u.hostname, u.port
        self._base = (u.path or "/").rstrip("/") + "/"
        self._token, self._timeout = token, timeout
        self._ca_file = ca_file
        self._tls = ssl.create_default_context(cafile=ca_file) if u.scheme == "https" else None
        self._idle: list[http.client.HTTPConnection] = []  # kept-alive connections, any thread's
        self._lock = threading.Lock()

    def patient(self, timeout: float) -> "Service":
        """The same service, waited on up to ``timeout`` seconds per answer (a long job's)."""
        return Service(self.url, self._token, timeout=timeout, ca_file=self._ca_file)

    def path_of(self, rel: str, query: dict | None = None) -> str:
        """The request target of ``rel`` (below the base URL, already quoted) and a query."""
        q = {k: v for k, v in (query or {}).items() if v is not None}
        return self._base + rel + (("?" + urlencode(q)) if q else "")

    @staticmethod
    def quoted(*parts: str) -> str:
        return "/".join(quote(p, safe="/") for p in parts)

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._tls is not None:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=self._tls,
                                               blocksize=BLOCK)  # fmt: skip
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout, blocksize=BLOCK)

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new_connection(), False

    def _checkin(self, conn, resp) -> None:
        """A connection whose answer was read to its end is kept for the next request."""
        if resp.isclosed() and not resp.will_close:
            with self._lock:
                if len(self._idle) < 8:
                    self._idle.append(conn)
                    return
        conn.close()

    def open(self, method: str, rel: str, *, query: dict | None = None, headers: dict | None = None, body=None,
             length: int | None = None, anonymous: bool = False) -> Reply:  # fmt: skip
        """Send a request; its answer is left unread, to stream (``read``) and ``close``, or to read
        whole (``finish``). ``body``: bytes, or a file-like object with ``length`` bytes to read.
        ``anonymous``: without the token, as a reviewer opens a link."""
        sent = {**({} if anonymous else {"Authorization": f"Bearer {self._token}"}), **(headers or {})}
        if body is not None and length is not None:
            sent["Content-Length"] = str(length)
        target = self.path_of(rel, query)
        while True:
            conn, reused = self._checkout()
            try:
                conn.request(method, target, body=body, headers=sent)
                return Reply(self, conn, conn.getresponse())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                # A kept-alive connection the service closed meanwhile: once more on a new one,
                # unless part of a streamed body was read (that caller resumes by itself).
                if not reused or not (body is None or isinstance(body, bytes)):
                    raise ServiceUnreachable(self.url, str(exc) or type(exc).__name__) from None
            except OSError as exc:
                conn.close()
                raise ServiceUnreachable(self.url, exc.strerror or str(exc) or type(exc).__name__) from None
            except BaseException:
                conn.close()  # stopped mid-body (a cancelled upload): the connection is in no known state
                raise

    def put_file(self, rel: str, f, offset: int, length: int, *, headers: dict, sent=None) -> Reply:
        """PUT ``length`` bytes of the open file ``f`` from ``offset``, handed to the kernel
        (``socket.sendfile``: no copy through Python) a slice at a time; ``sent(position)`` after each
        slice (it may raise to stop). Its answer as ``open`` gives it."""
        target = self.path_of(rel)
        while True:
            conn, reused = self._checkout()
            try:
                conn.putrequest("PUT", target, skip_accept_encoding=True)
                for name, value in {"Authorization": f"Bearer {self._token}", **headers,
                                    "Content-Length": str(length)}.items():  # fmt: skip
                    conn.putheader(name, value)
                conn.endheaders()
                done = 0
                while done < length:
                    n = conn.sock.sendfile(f, offset + done, min(SLICE, length - done))
                    if not n:
                        raise OSError("the file got shorter while it was sent")
                    done += n
                    if sent is not None:
                        sent(offset + done)
                return Reply(self, conn, conn.getresponse())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if not reused:  # a kept-alive connection closed meanwhile: once more, on a new one
                    raise ServiceUnreachable(self.url, str(exc) or type(exc).__name__) from None
            except OSError as exc:
                conn.close()
                raise ServiceUnreachable(self.url, exc.strerror or str(exc) or type(exc).__name__) from None
            except BaseException:
                conn.close()  # stopped mid-body: the connection is in no known state
                raise

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def call(self, method: str, rel: str, body: dict | None = None, *, query: dict | None = None,
             headers: dict | None = None, anonymous: bool = False) -> Answer:  # fmt: skip
        """A JSON call; a failed one raises ServiceError with the service's own error."""
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
        return self.open(method, rel, query=query, headers=hdrs, body=data, length=len(data) if data else None,
                         anonymous=anonymous).finish()  # fmt: skip


class Reply:
    """An answer of the service, read as it comes (``read``) or whole (``finish``)."""

    def __init__(self, service: Service, conn, resp: http.client.HTTPResponse):
        self.service, self._conn, self._resp = service, conn, resp
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}

    def read(self, n: int = BLOCK) -> bytes:
        try:
            return self._resp.read(n)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ServiceUnreachable(self.service.url, str(exc) or type(exc).__name__) from None

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if not self._resp.isclosed():
                self._resp.close()
                conn.close()  # unread bytes: not reusable
                return
            self.service._checkin(conn, self._resp)

    def finish(self) -> Answer:
        """The whole answer; a failed one raises ServiceError with the service's own error."""
        try:
            raw = self._resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ServiceUnreachable(self.service.url, str(exc) or type(exc).__name__) from None
        self.close()
        answer = Answer(self.status, self.headers, raw)
        if self.status >= 400:
            try:
                err = answer.json()
            except ValueError:
                err = {}
            raise ServiceError.of(self.status, err if isinstance(err, dict) else {})
        return answer
