"""What every datashare handler shares: JSON bodies, error replies, redaction of secrets.

The handlers are written once, as mixins over tornado's ``RequestHandler`` API, and served by two
adapters: the Jupyter server extension (``server/app.py`` puts each on jupyter-server's
``JupyterHandler`` or ``APIHandler``, under ``{base_url}datashare/``) and the standalone service
(``service/``, on a plain tornado handler that knows its callers by API token, at its root).
``for_jupyter`` and ``service.handlers.for_service`` make the concrete classes.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from ..core import datasets
from ..core.clients import UNIX
from ..core.errors import Busy, DataShareError, InvalidInput, RateLimited, RangeNotSatisfiable
from .redaction import redact_line, redact_request

# Deeper JSON than any of our bodies needs is refused before anything walks it recursively.
MAX_JSON_DEPTH = 32


class BodyTooLarge(InvalidInput):
    status = 413


def json_depth(value) -> int:
    """How deeply lists and objects nest (iteratively: the value may be as deep as the parser allows)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def peer_address(request) -> str:
    """Who opened the connection: its IP address (untouched by xheaders), or clients.UNIX."""
    context = getattr(request.connection, "context", None)
    family = getattr(context, "address_family", None)
    if family in (socket.AF_INET, socket.AF_INET6) and context.address:
        return context.address[0]
    if family == getattr(socket, "AF_UNIX", None):
        return UNIX
    return request.remote_ip or "unknown"  # no connection context: a test request, no xheaders


class DataShareMixin:
    capability = False  # True for routes whose URL holds a secret
    json_errors = False  # True for the API: errors are JSON whatever the caller accepts

    @property
    def datashare(self):
        return self.settings["datashare"]

    @property
    def prefix(self) -> str:
        """The path of our routes under the server's base_url: ``datashare`` in a Jupyter server,
        nothing in the standalone service (its base_url is all ours)."""
        return self.settings.get("datashare_prefix", "datashare")

    @property
    def client(self) -> str:
        """The client's address, as the limits count it and the audit log records it. With
        trusted_proxies, read from the real peer and X-Forwarded-For here, never from tornado's
        xheaders (c.ServerApp.trust_xheaders believes X-Real-IP from anyone)."""
        proxies = self.datashare.trusted_proxies
        if not proxies:
            return self.request.remote_ip or "unknown"
        return proxies.client(peer_address(self.request), self.request.headers.get("X-Forwarded-For"))

    def wants_json(self) -> bool:
        accept = self.request.headers.get("Accept", "")
        return "application/json" in accept and "text/html" not in accept.split(",")[0]

    def json_body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("body", f"is not valid JSON ({exc})") from None
        except RecursionError:  # the parser gave up on the nesting
            raise InvalidInput("body", f"nests deeper than {MAX_JSON_DEPTH} levels") from None
        if not isinstance(body, dict):
            raise InvalidInput("body", "must be a JSON object")
        if json_depth(body) > MAX_JSON_DEPTH:
            raise InvalidInput("body", f"nests deeper than {MAX_JSON_DEPTH} levels")
        return body

    def absolute_url(self, *parts: str) -> str:
        """A full URL to hand to someone else (links in responses); ``parts`` start below our
        prefix. public_base_url is the public address of the server's base_url (what a proxy maps
        to it), so it replaces base_url: with https://data.example.org/share/, ("r", s) is
        .../share/datashare/r/s in a Jupyter server."""
        public = self.datashare.settings.public_base_url.rstrip("/")
        if public:
            return public + url_path_join("/", self.prefix, *parts)
        return f"{self.request.protocol}://{self.request.host}" + url_path_join(self.base_url, self.prefix, *parts)

    def link_url(self, *parts: str) -> str:
        """A link inside our pages and views: absolute_url with a public_base_url (the server's own
        path may not exist behind the proxy), else the server-relative path, as before. The
        service's are always absolute: its callers show them on other servers (a Jupyter panel)."""
        if self.datashare.settings.public_base_url or self.datashare.settings.many_owners:
            return self.absolute_url(*parts)
        return url_path_join(self.base_url, self.prefix, *parts)

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data))

    pool = "public"  # whose threads do this handler's blocking work (server/pools.py)

    async def in_thread(self, fn, *args, **kwargs):
        """Run blocking core work (disk, fsync'd commits) off the event loop."""
        pools = self.settings.get("datashare_pools")
        if pools is None:  # client mode: the work is a call to the service
            return await IOLoop.current().run_in_executor(None, lambda: fn(*args, **kwargs))
        return await pools.run(self.pool, lambda: fn(*args, **kwargs))

    def write_error(self, status_code: int, **kwargs) -> None:
        """Our errors say what is wrong (naming the field); nothing else ever leaks (no trace)."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, DataShareError):
            body = exc.to_dict()
            if isinstance(exc, (RateLimited, Busy)):
                self.set_header("Retry-After", str(exc.retry_after))
            if isinstance(exc, RangeNotSatisfiable):
                self.set_header("Content-Range", f"bytes */{exc.size}")
        elif isinstance(exc, web.HTTPError) and exc.log_message and status_code < 500:
            body = {"error": self._reason, "message": redact_line(exc.log_message % exc.args if exc.args else exc.log_message)}
        else:
            body = {"error": self._reason, "message": self._reason}
        self.clear_header("Content-Disposition")
        if self.wants_json() or self.json_errors:
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps(body))
        else:
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(self.settings["datashare_pages"].render("error.html", status=status_code, error=body))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, DataShareError):
            if self._finished:
                return
            self.send_error(e.status, exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)


class OwnerAPIHandler(DataShareMixin):
    """JSON API for the researcher; every verb is @web.authenticated + @authorized."""

    auth_resource = "datashare:datasets"
    json_errors = True
    pool = "owner"

    @property
    def acts_as_owner(self) -> bool:
        if self.datashare.settings.many_owners:  # the service: everyone owns their own
            return self.current_user is not None
        # A single-user server belongs to one account: unless owner_identities names who may act
        # for it (JupyterHub, a shared server), whoever the server authenticates is its owner.
        allowed = self.datashare.settings.owner_identities
        return not allowed or (self.current_user is not None and self.current_user.username in allowed)

    @property
    def owner(self) -> str:
        """Whose datasets this request works on. In a Jupyter server, the configured owner; in
        the service, the caller its credentials prove, never a name anyone configured or sent."""
        if not self.acts_as_owner:
            raise web.HTTPError(403, "only the owner of this server's datasets may do that")
        if self.datashare.settings.many_owners:
            return self.current_user.username
        return self.datashare.settings.owner

    def require_owner(self) -> None:
        """For routes about the whole store, such as the audit log (committee members see the
        requests they decide, not who read which dataset)."""
        self.owner  # noqa: B018 (raises 403 for anyone else)

    @property
    def is_data_steward(self) -> bool:
        """In the service: a configured data steward (by username, or a hub group ``group:NAME``)."""
        user = self.current_user
        stewards = self.datashare.settings.data_stewards
        if not self.datashare.settings.many_owners or user is None or not stewards:
            return False
        mine = {user.username, *("group:" + g for g in getattr(user, "groups", ()) or ())}
        return bool(mine & set(stewards))

    def require_whole_log(self) -> None:
        """Verifying or signing the whole log: the owner's in a Jupyter server; in the service,
        whose log is everyone's, a data steward's or its administrator's (on its machine)."""
        self.require_owner()
        if self.datashare.settings.many_owners and not self.is_data_steward:
            raise web.HTTPError(403, "the whole audit log is the data stewards' (c.DataShareApp.data_stewards) and "
                                     "the service administrator's: run `jupyter datashare audit verify` (or `audit "
                                     "checkpoint`) where the service runs")  # fmt: skip

    def own_datasets(self) -> frozenset[str] | None:
        """The datasets whose audit events the caller may read: None for all of them (the one
        owner of a Jupyter server's store, a data steward of the service); in the service, the
        caller's own (in a thread)."""
        if not self.datashare.settings.many_owners or self.is_data_steward:
            return None
        return frozenset(datasets.ids_of(self.datashare, self.owner))


class PublicHandler(DataShareMixin):
    """Pages and downloads for people without a Jupyter login; access is checked per route."""

    # Every public body (a request form, a renewal, a committee decision) fits well within this;
    # the fields inside are bounded one by one where they are validated.
    max_body_bytes = 64 * 1024

    def initialize(self, *args, **kwargs):
        # Runs before tornado parses the body or checks XSRF, either of which may log the URI.
        redact_request(self.request)
        self._body_size = len(self.request.body or b"")
        if self._body_size > self.max_body_bytes:
            self.request.body = b""  # so tornado never parses it: it is refused in prepare
        super().initialize(*args, **kwargs)

    async def prepare(self, *args, **kwargs):
        if self._body_size > self.max_body_bytes:
            raise BodyTooLarge("body", f"is {self._body_size} bytes; at most {self.max_body_bytes} are accepted here")
        return await super().prepare(*args, **kwargs)

    @property
    def content_security_policy(self) -> str:
        return (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.capability:
            self.set_header("X-Robots-Tag", "noindex, nofollow")
            self.set_header("Cache-Control", "no-store")


def for_jupyter(route):
    """The handler a Jupyter server serves ``route`` with: the route's logic on jupyter-server's
    own handler (its login, XSRF, authorizer and logging), as an extension's handler; downloads
    of public files (``lean = True``) on a plain tornado handler (``LeanPublicHandler``)."""
    from jupyter_server.base.handlers import APIHandler, JupyterHandler
    from jupyter_server.extension.handler import ExtensionHandlerMixin

    if getattr(route, "lean", False):
        return type(route.__name__, (route, LeanPublicHandler), {"__module__": route.__module__})
    base = APIHandler if issubclass(route, OwnerAPIHandler) else JupyterHandler
    return type(route.__name__, (route, ExtensionHandlerMixin, base), {"__module__": route.__module__})


class LeanPublicHandler(web.RequestHandler):
    """What a download by anyone needs of jupyter-server's handler, and no more: it has no login
    to look up (every such route is public, its access decided by the core), so jupyter-server's
    per-request work (identity, authorizer, cookies, XSRF of a GET) was half of a small file's
    cost. Kept: its Host check against DNS rebinding, the headers that keep pages out of frames."""

    @property
    def base_url(self) -> str:
        return self.settings.get("base_url", "/")

    @property
    def log(self):
        return self.settings.get("datashare_log") or web.app_log

    async def prepare(self, *args, **kwargs):
        from jupyter_server.base.handlers import JupyterHandler

        if not JupyterHandler.check_host(self):
            raise web.HTTPError(403)
        done = super().prepare(*args, **kwargs)
        if done is not None:
            await done

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", self.content_security_policy)
        self.set_header("X-Frame-Options", "DENY")
        super().set_default_headers()
