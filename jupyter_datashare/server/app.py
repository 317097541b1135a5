"""The Jupyter server extension: configuration (``c.DataShareApp.*``) and routes."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback

from ..config import DataShareConfig, service_of
from ..core import store_check
from ..core.clock import Clock
from ..core.service import DataShare
from ..core.settings import Settings
from . import client_mode, redaction, startup, wiring
from .base import for_jupyter
from .routes import routes
from .wiring import every_so_often, handler_settings


class DataShareApp(DataShareConfig, ExtensionApp):
    """The options are DataShareConfig's (declared once, shared with the CLI and the notebook API);
    listed first, so its ``data_dir`` is ours and not JupyterApp's."""

    name = "jupyter_datashare"
    description = "Share datasets under controlled access, with review links and an audit log."
    load_other_extensions = True

    def settings_for_core(self) -> Settings:
        return self.core_settings(self.serverapp.root_dir)

    def initialize(self):
        try:
            super().initialize()
        except Exception as exc:  # never serve on without the extension: see startup.py
            startup.stop_server(self, exc)

    def initialize_settings(self):
        service = service_of(self)
        if service is not None:  # client mode: the service holds the data (server/client_mode.py)
            self.service = service
            wired = client_mode.handler_settings(self, self.settings_for_core(), service, self.clock or Clock())
            self.jobs = wired["datashare_jobs"]
            self.settings.update(wired)
            redaction.install(self.settings, self.serverapp.log, self.log)
            self.log.info("jupyter_datashare: client of the datashare service at %s", service.url)
            return
        self.datashare = DataShare(self.settings_for_core(), self.clock)
        store_check.reclaim_at_start(self.datashare)  # what crashed shares left, over a day ago
        wired = self.wired = handler_settings(self, self.datashare)
        self.jobs = wired["datashare_jobs"]
        self.settings.update(wired)
        # self.settings is a copy of the web app's settings that is written back after this.
        redaction.install(self.settings, self.serverapp.log, self.log)
        self.log.info("jupyter_datashare: store in %s", self.data_dir)

    def initialize_handlers(self):
        served = client_mode.routes() if hasattr(self, "service") else routes()
        self.handlers.extend((rf"/datashare/{pattern}", for_jupyter(route)) for pattern, route in served)

    async def _start_jupyter_server_extension(self, serverapp):
        if not hasattr(self, "datashare"):
            return  # client mode: the service signs its own checkpoints
        # Sign a checkpoint every so often, so a quiet log is still covered by a recent one.
        self._checkpointer = PeriodicCallback(self._checkpoint, self.checkpoint_seconds * 1000)
        self._checkpointer.start()

    async def _checkpoint(self):
        from tornado.ioloop import IOLoop

        await IOLoop.current().run_in_executor(None, every_so_often, self.datashare)

    async def stop_extension(self):
        checkpointer = getattr(self, "_checkpointer", None)
        if checkpointer:
            checkpointer.stop()
        if hasattr(self, "jobs"):
            self.jobs.close()  # running freezes stop at their next chunk; nothing half-shared stays
        if hasattr(self, "wired"):
            wiring.close(self.wired)
        if hasattr(self, "datashare"):
            self.datashare.close()
        if hasattr(self, "service"):
            self.service.close()
