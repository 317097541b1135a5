"""Public pages that accept a POST (request form, renewal, committee decisions).

Their bodies are read as they arrive and never held past ``max_body_bytes``: what a stranger sends
beyond it is dropped as it comes and answered with a 413, instead of being buffered whole as
tornado does for ordinary handlers (up to ``ServerApp.max_body_size``, 512 MB by default) before
any check of ours runs.

Because the body arrives after ``prepare``, the XSRF check (whose token a form sends in its body)
waits for it: every POST handler here is wrapped so that the body is parsed and the XSRF token
checked before the handler's own code runs; there is no way to forget it.
"""

from __future__ import annotations

import functools
import inspect
import re

from tornado import httputil

from ..core.errors import InvalidInput
from .base import BodyTooLarge, PublicHandler

BODY_METHODS = ("post", "put", "patch", "delete")


def _body_first(method):
    """Run ``method`` only once the body is complete, parsed, within bounds and XSRF-checked."""

    @functools.wraps(method)  # keeps jupyter-server's @allow_unauthenticated mark
    async def wrapper(self, *args, **kwargs):
        self.read_body()
        result = method(self, *args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return wrapper


class FormHandler(PublicHandler):
    """Public pages that accept a POST: protected by tornado's XSRF double-submit token.

    Our pages send ``Referrer-Policy: no-referrer``, which makes browsers send ``Origin: null``
    on form posts; the XSRF token, which another site cannot read, is what proves the origin.
    """

    _stream_request_body = True  # what @web.stream_request_body sets; that checks for a RequestHandler

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in BODY_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_body_first", False):
                wrapped = _body_first(method)
                wrapped._body_first = True
                setattr(cls, name, wrapped)

    async def prepare(self, *args, **kwargs):
        self._chunks: list[bytes] = []
        self._received = 0
        self._body_read = False
        return await super().prepare(*args, **kwargs)

    def data_received(self, chunk: bytes) -> None:
        # Past the limit the rest is read and dropped, so the client still gets its 413 (a reply
        # sent before the body is read ends in a reset connection that browsers show as an error).
        self._received += len(chunk)
        if self._received <= self.max_body_bytes:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    def check_xsrf_cookie(self) -> None:
        # jupyter-server checks in prepare(), before a streamed body (and the form's _xsrf field
        # in it) has arrived: the check runs in read_body() instead, before any handler code.
        if self.request.method.lower() in BODY_METHODS and not getattr(self, "_body_read", False):
            return None
        return super().check_xsrf_cookie()

    def read_body(self) -> None:
        if self._received > self.max_body_bytes:
            raise BodyTooLarge("body", f"is over {self.max_body_bytes} bytes; at most that is accepted here")
        body = b"".join(self._chunks)
        self.request.body = body
        try:
            httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), body,
                                          self.request.body_arguments, self.request.files, self.request.headers)  # fmt: skip
        except httputil.HTTPInputError as exc:
            raise InvalidInput("body", f"could not be read ({exc})") from None
        for key, values in self.request.body_arguments.items():
            self.request.arguments.setdefault(key, []).extend(values)
        self._body_read = True
        self.check_xsrf_cookie()

    def check_origin(self, origin_to_satisfy_tornado=""):
        if self.request.headers.get("Origin") == "null":
            return True
        return super().check_origin(origin_to_satisfy_tornado)

    def form(self, multi: tuple[str, ...] = (), flags: tuple[str, ...] = (), ints: tuple[str, ...] = ()) -> dict:
        if "application/json" in self.request.headers.get("Content-Type", ""):
            return self.json_body()
        out: dict = {}
        for key in self.request.body_arguments:
            if key == "_xsrf":
                continue
            values = [v.strip() for v in self.get_body_arguments(key)]
            # A browser sends every named box, filled or not: an empty one says nothing.
            out[key] = [v for v in values if v] if key in multi else values[-1]
        for key in flags:
            out[key] = out.get(key) in ("on", "true", "yes", "1")
        for key in ints:
            if out.get(key) not in (None, ""):
                if not re.fullmatch(r"[0-9]{1,9}", out[key]):  # not int() on 5,000 digits or on "²"
                    raise InvalidInput(key, "must be a whole number")
                out[key] = int(out[key])
            else:
                out.pop(key, None)
        return out

    def page(self, name: str, status: int = 200, **ns) -> None:
        self.set_status(status)
        self.finish(self.settings["datashare_pages"].render(name, xsrf_form_html=self.xsrf_form_html, **ns))
