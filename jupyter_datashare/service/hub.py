"""The service as a JupyterHub service (``jupyter datashare serve --hub``): its callers are the hub's
users, known by the hub itself. A user server's ``$JUPYTERHUB_API_TOKEN`` (client mode) or any hub
token with ``access:services!service=NAME`` names its user (HubAuth); a browser logs in through the
hub (HubOAuth: a redirect to the hub, back to ``oauth_callback``, then a cookie of the service's).
Where it listens, its prefix and its own token come from the environment the hub gives it.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from tornado.httputil import url_concat

ENV = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_PREFIX")


def address() -> tuple[str, int, str]:
    """(ip, port, base URL) the hub gave this service: ``JUPYTERHUB_SERVICE_URL`` and its prefix."""
    missing = [name for name in ENV if not os.environ.get(name)]
    if missing:
        from ..core.errors import InvalidInput

        raise InvalidInput("--hub", f"needs the environment of a JupyterHub service ({', '.join(missing)} "
                                    "not set): run it from c.JupyterHub.services (see jupyterhub_config.py)")  # fmt: skip
    u = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101")
    return u.hostname or "127.0.0.1", u.port or 80, os.environ["JUPYTERHUB_SERVICE_PREFIX"]


class HubCallers:
    """Who a request comes from, asked of the hub (answers cached a minute, as HubAuth does)."""

    def __init__(self):
        from jupyterhub.services.auth import HubOAuth

        # The singleton: the OAuth callback handler (jupyterhub's own) finds the same one.
        self.auth = HubOAuth.instance(cache_max_age=60)

    async def caller(self, handler):
        """The hub user of the request's token or login cookie, if they may use this service."""
        from .handlers import Caller

        model = await self.auth.get_user(handler, sync=False)
        if not model or model.get("kind", "user") != "user":
            return None  # other hub services call with tokens of their own kind: not an owner
        if self.auth.access_scopes and not self.auth.check_scopes(self.auth.access_scopes, model):
            return None
        return Caller(model["name"], frozenset(model.get("groups") or ()))

    def login_url(self, handler) -> str:
        """The hub's login, coming back to the page asked for."""
        state = self.auth.set_state_cookie(handler, next_url=handler.request.uri)
        return url_concat(self.auth.login_url, {"state": state})

    def routes(self, base_url: str) -> list:
        from jupyterhub.services.auth import HubOAuthCallbackHandler

        return [(base_url + "oauth_callback", HubOAuthCallbackHandler)]
