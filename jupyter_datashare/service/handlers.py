"""The service's adapter: each route's logic (``server/``) on a plain tornado handler that knows
its caller by personal API token, where jupyter-server's handler knew them by its own login."""

from __future__ import annotations

from dataclasses import dataclass

from tornado import web

from ..core import api_tokens, secrets
from ..server.base import OwnerAPIHandler

_SCHEMES = ("token", "bearer")


@dataclass(frozen=True)
class Caller:
    """Who a request acts for (the handlers read ``current_user.username``, as in Jupyter); on
    JupyterHub also their hub groups (committee seats ``group:NAME``, data stewards)."""

    username: str
    groups: frozenset[str] = frozenset()


class _Everyone:
    """Authorisation of an authenticated caller: what they may touch is decided per dataset by the
    core (the owner is the caller; committee members by membership), not by a server-wide role."""

    def is_authorized(self, handler, user, action, resource) -> bool:
        return user is not None


def _hub_token(request) -> bool:
    scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
    return scheme.lower() in _SCHEMES and bool(value.strip())


def bearer(request) -> str | None:
    """The API token of ``Authorization: Bearer dsa_…`` (or ``token dsa_…``), if one is sent."""
    scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() in _SCHEMES and secrets.well_formed(value, secrets.API):
        return value
    return None


class ServiceHandler(web.RequestHandler):
    """What jupyter-server's handler gave the routes: the base URL, the caller, an authoriser,
    headers that keep pages out of frames and sniffing."""

    authorizer = _Everyone()
    content_security_policy = "default-src 'none'; frame-ancestors 'none'"

    @property
    def base_url(self) -> str:
        return self.settings.get("base_url", "/")

    @property
    def hub(self):
        return self.settings.get("datashare_hub")  # service.hub.HubCallers on JupyterHub, else None

    async def prepare(self, *args, **kwargs):
        token = bearer(self.request)
        if token is not None:
            # A database look-up: off the event loop, like every other call of the core.
            username = await self.in_thread(api_tokens.authenticate, self.datashare, token, self.client)
            if username is not None:
                self.current_user = Caller(username)
        elif self.hub is not None:
            caller = await self.hub.caller(self)  # a hub token, or the cookie of a hub login
            if caller is not None:
                self.current_user = caller
        done = super().prepare(*args, **kwargs)
        if done is not None:
            await done

    def get_current_user(self):
        return None  # only a token makes a caller (prepare)

    def get_login_url(self) -> str:
        if self.hub is not None:
            return self.hub.login_url(self)
        raise web.HTTPError(401, "this needs a personal API token: Authorization: Bearer dsa_...")

    def check_xsrf_cookie(self) -> None:
        # A request that carries a token in a header is not a browser's forged form post (a page of
        # another site cannot add that header without our CORS consent, which is never given).
        if bearer(self.request) is None and not (self.hub is not None and _hub_token(self.request)):
            super().check_xsrf_cookie()

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", self.content_security_policy)
        self.set_header("X-Frame-Options", "DENY")


class ServiceAPIHandler(ServiceHandler):
    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")  # answers carry link and committee secrets

    async def prepare(self, *args, **kwargs):
        await super().prepare(*args, **kwargs)
        if self.current_user is None:
            if self.hub is not None:
                raise web.HTTPError(401, "this needs a JupyterHub token with access to this service "
                                         "(Authorization: token ...), or a hub login")  # fmt: skip
            raise web.HTTPError(401, "this needs a valid personal API token: Authorization: Bearer dsa_...")


def for_service(route):
    """The handler the service serves ``route`` with."""
    base = ServiceAPIHandler if issubclass(route, OwnerAPIHandler) else ServiceHandler
    return type(route.__name__, (route, base), {"__module__": route.__module__})
