"""The service's tornado application and its process: ``jupyter datashare serve``.

Not a Jupyter server: no contents, no kernels, no terminals, no user code; every route of
``server/routes.py`` at the service's base URL (``/r/{secret}``, ``/api/datasets`` …), the core
underneath, and nothing else.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback

from ..core import store_check
from ..server import redaction
from ..server.routes import routes, service_routes
from ..server import wiring
from ..server.wiring import every_so_often, handler_settings
from .handlers import for_service

log = logging.getLogger("jupyter_datashare.service")
UPLOAD_PIECE = 1 << 20


def make_app(options, ctx, base_url: str = "/", hub=None) -> web.Application:
    """The application serving ``ctx`` (the core) under ``base_url``, configured by ``options``;
    ``hub`` (service.hub.HubCallers) when it runs as a JupyterHub service."""
    if not ctx.settings.many_owners:
        raise ValueError("the service's core must have many_owners: every caller owns only their own datasets")
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    settings = handler_settings(options, ctx)
    settings.update(base_url=base_url, datashare_prefix="", xsrf_cookies=True, datashare_hub=hub,
                    cookie_secret=cookie_secret(ctx.settings.data_dir))  # fmt: skip
    # base_url ends with "/", and so does the root's route (url_path_join would drop it).
    handlers = [(base_url + pattern, for_service(route)) for pattern, route in service_routes() + routes()]
    if hub is not None:
        handlers = hub.routes(base_url) + handlers
    app = web.Application(handlers, **settings)
    redaction.also_under(base_url)
    redaction.install(app.settings, log)
    return app


def cookie_secret(data_dir: str) -> bytes:
    """What signs the service's cookies (a hub login's): one secret in the data dir, made once
    (mode 0600), so that every process of the service accepts the cookies of the others."""
    path = os.path.join(data_dir, "service-cookie-secret")
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return cookie_secret(data_dir)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
        return secret


def serve(options, ctx, *, ip: str, port: int, base_url: str = "/", hub=None) -> int:
    """Serve until SIGTERM or SIGINT; prints the address once it listens."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    store_check.reclaim_at_start(ctx)
    app = make_app(options, ctx, base_url, hub)
    # Request bodies reach the handlers in pieces of this size: an upload is a few thousand
    # thread hops a GiB, not sixteen thousand (tornado's default is 64 KiB).
    server = HTTPServer(app, chunk_size=UPLOAD_PIECE)
    server.listen(port, ip)
    bound = next(iter(server._sockets.values())).getsockname()[1]  # the port, when 0 asked for any
    print(f"jupyter-datashare service at http://{ip}:{bound}{app.settings['base_url']}", flush=True)
    log.info("store in %s", ctx.settings.data_dir)
    if (base_url.strip("/") or ctx.settings.public_base_url) and not ctx.settings.trusted_proxies:
        # Behind a proxy every caller has the proxy's address: a stranger's failed look-ups would
        # spend everyone's budget, and lock all callers out.
        log.warning("the service seems to run behind a proxy (a base URL or public_base_url is set) but "
                    "c.DataShareApp.trusted_proxies is empty: list the proxy there, or every caller counts as one")  # fmt: skip
    loop = IOLoop.current()

    async def tick():
        await loop.run_in_executor(None, every_so_often, ctx)

    timer = PeriodicCallback(tick, options.checkpoint_seconds * 1000)
    timer.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.add_callback_from_signal(loop.stop))
    try:
        loop.start()
    finally:
        timer.stop()
        server.stop()
        app.settings["datashare_jobs"].close()  # running freezes stop at their next chunk
        wiring.close(app.settings)
    return 0


__all__ = ["make_app", "serve"]
