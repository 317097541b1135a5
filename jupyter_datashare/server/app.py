"""The Jupyter server extension: configuration (``c.DataShareApp.*``) and routes."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback

from ..config import DataShareConfig
from ..core import notify, store_check
from ..core.jobs import Jobs
from ..core.service import DataShare
from ..core.settings import Settings
from . import access, api, jobs, public, redaction, startup, transparency
from .base import for_jupyter
from .pages import Pages
from .send_ahead import SendAhead

SECRET = r"[^/]+"


def routes() -> list[tuple[str, type]]:
    """Every route (a pattern below our prefix, its handler's logic), for both adapters."""
    return [
        (r"api/datasets", api.DatasetsAPI),
        (r"api/datasets/([^/]+)", api.DatasetAPI),
        (r"api/datasets/([^/]+)/versions", api.VersionsAPI),
        (r"api/datasets/([^/]+)/files/(.+)", api.OwnerFileAPI),
        (r"api/datasets/([^/]+)/links", api.LinksAPI),
        (r"api/links/([^/]+)", api.LinkAPI),
        (r"api/jobs/([^/]+)", jobs.JobAPI),
        (r"api/datasets/([^/]+)/committee", access.CommitteeMembersAPI),
        (r"api/datasets/([^/]+)/grants", access.DatasetGrantsAPI),
        (r"api/requests", access.RequestsAPI),
        (r"api/requests/decisions", access.BulkDecisionAPI),
        (r"api/requests/([^/]+)", access.RequestAPI),
        (r"api/requests/([^/]+)/decision", access.DecisionAPI),
        (r"api/requests/([^/]+)/personal-data", access.PersonalDataAPI),
        (r"api/grants/([^/]+)", access.GrantAPI),
        (r"api/datasets/([^/]+)/citation", api.CitationAPI),
        (r"api/audit", api.AuditAPI),
        (r"api/audit/verify", api.AuditVerifyAPI),
        (r"api/audit/checkpoint", api.AuditCheckpointAPI),
        (r"checkpoint", transparency.PublicCheckpoint),
        (r"d/([^/]+)", public.DatasetPage),
        (r"d/([^/]+)/files/(.+)", public.DatasetFile),
        (r"d/([^/]+)/request", access.RequestForm),
        (r"d/([^/]+)/citation", public.DatasetCitation),
        (rf"s/({SECRET})", access.StatusPage),
        (rf"s/({SECRET})/renewal", access.StatusRenewal),
        (rf"g/({SECRET})/files/(.+)", access.GrantFile),
        (rf"c/({SECRET})", access.CommitteePage),
        (rf"r/({SECRET})", public.ReviewPage),
        (rf"r/({SECRET})/files/(.+)", public.ReviewFile),
        (r"([rsgc]/.*)", public.NotFoundPage),
    ]


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
        self.datashare = DataShare(self.settings_for_core(), self.clock)
        store_check.reclaim_at_start(self.datashare)  # what crashed shares left, over a day ago
        if self.smtp_host:
            self.datashare.mailer = notify.Mailer(notify.MailSettings(
                host=self.smtp_host, port=self.smtp_port, sender=self.smtp_from, username=self.smtp_username,
                password=self.smtp_password, starttls=self.smtp_starttls, reminder_days=self.reminder_days,
                expiry_warning_days=self.expiry_warning_days))  # fmt: skip
        self.jobs = Jobs(self.datashare.engine, self.datashare.clock, threads=self.job_threads,
                         keep_seconds=self.finished_job_seconds)  # fmt: skip
        self.settings.update(
            datashare=self.datashare,
            datashare_jobs=self.jobs,
            datashare_pages=Pages(),
            datashare_chunk_size=self.download_chunk_size,
            datashare_zero_copy=self.zero_copy,
            datashare_send_ahead=SendAhead(self.send_ahead_downloads, self.stall_timeout)
            if self.send_ahead_downloads > 0
            else None,
        )
        # self.settings is a copy of the web app's settings that is written back after this.
        redaction.install(self.settings, self.serverapp.log, self.log)
        self.log.info("jupyter_datashare: store in %s", self.data_dir)

    def initialize_handlers(self):
        self.handlers.extend((rf"/datashare/{pattern}", for_jupyter(route)) for pattern, route in routes())

    async def _start_jupyter_server_extension(self, serverapp):
        # Sign a checkpoint every so often, so a quiet log is still covered by a recent one.
        self._checkpointer = PeriodicCallback(self._checkpoint, self.checkpoint_seconds * 1000)
        self._checkpointer.start()

    async def _checkpoint(self):
        from tornado.ioloop import IOLoop

        await IOLoop.current().run_in_executor(None, self.datashare.audit.checkpoint)
        # Reminders and expiry warnings ride on the same timer; they are idempotent.
        await IOLoop.current().run_in_executor(None, notify.run_due, self.datashare)

    async def stop_extension(self):
        checkpointer = getattr(self, "_checkpointer", None)
        if checkpointer:
            checkpointer.stop()
        if hasattr(self, "jobs"):
            self.jobs.close()  # running freezes stop at their next chunk; nothing half-shared stays
        if hasattr(self, "datashare"):
            self.datashare.close()
