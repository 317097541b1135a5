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
from .pages import Pages
from .send_ahead import SendAhead

SECRET = r"[^/]+"


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
        p = "datashare"
        self.handlers.extend(
            [
                (rf"/{p}/api/datasets", api.DatasetsAPI),
                (rf"/{p}/api/datasets/([^/]+)", api.DatasetAPI),
                (rf"/{p}/api/datasets/([^/]+)/versions", api.VersionsAPI),
                (rf"/{p}/api/datasets/([^/]+)/files/(.+)", api.OwnerFileAPI),
                (rf"/{p}/api/datasets/([^/]+)/links", api.LinksAPI),
                (rf"/{p}/api/links/([^/]+)", api.LinkAPI),
                (rf"/{p}/api/jobs/([^/]+)", jobs.JobAPI),
                (rf"/{p}/api/datasets/([^/]+)/committee", access.CommitteeMembersAPI),
                (rf"/{p}/api/datasets/([^/]+)/grants", access.DatasetGrantsAPI),
                (rf"/{p}/api/requests", access.RequestsAPI),
                (rf"/{p}/api/requests/decisions", access.BulkDecisionAPI),
                (rf"/{p}/api/requests/([^/]+)", access.RequestAPI),
                (rf"/{p}/api/requests/([^/]+)/decision", access.DecisionAPI),
                (rf"/{p}/api/requests/([^/]+)/personal-data", access.PersonalDataAPI),
                (rf"/{p}/api/grants/([^/]+)", access.GrantAPI),
                (rf"/{p}/api/datasets/([^/]+)/citation", api.CitationAPI),
                (rf"/{p}/api/audit", api.AuditAPI),
                (rf"/{p}/api/audit/verify", api.AuditVerifyAPI),
                (rf"/{p}/api/audit/checkpoint", api.AuditCheckpointAPI),
                (rf"/{p}/checkpoint", transparency.PublicCheckpoint),
                (rf"/{p}/d/([^/]+)", public.DatasetPage),
                (rf"/{p}/d/([^/]+)/files/(.+)", public.DatasetFile),
                (rf"/{p}/d/([^/]+)/request", access.RequestForm),
                (rf"/{p}/d/([^/]+)/citation", public.DatasetCitation),
                (rf"/{p}/s/({SECRET})", access.StatusPage),
                (rf"/{p}/s/({SECRET})/renewal", access.StatusRenewal),
                (rf"/{p}/g/({SECRET})/files/(.+)", access.GrantFile),
                (rf"/{p}/c/({SECRET})", access.CommitteePage),
                (rf"/{p}/r/({SECRET})", public.ReviewPage),
                (rf"/{p}/r/({SECRET})/files/(.+)", public.ReviewFile),
                (rf"/{p}/([rsgc]/.*)", public.NotFoundPage),
            ]
        )

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
