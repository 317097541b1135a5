"""The Jupyter server extension: configuration (``c.DataShareApp.*``) and routes."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Float, Instance, Int, List, Unicode, default

from ..core import notify
from ..core.jobs import Jobs
from ..core.clock import Clock
from ..core.service import DataShare
from ..core.settings import MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, Settings, default_data_dir, default_owner
from . import access, api, jobs, public, redaction, startup
from .pages import Pages
from .send_ahead import SendAhead

SECRET = r"[^/]+"


class DataShareApp(ExtensionApp):
    name = "jupyter_datashare"
    description = "Share datasets under controlled access, with review links and an audit log."
    load_other_extensions = True

    data_dir = Unicode(
        help="Folder for the database, the file store and the audit signing key. "
        "Default: <jupyter data dir>/datashare."
    ).tag(config=True)

    @default("data_dir")
    def _data_dir(self):
        return default_data_dir()

    db_url = Unicode("", help="SQLAlchemy URL of the database. Default: SQLite in data_dir.").tag(config=True)
    owner = Unicode(help="Name recorded as the owner of shared datasets. Default: the hub user or the account.").tag(
        config=True
    )

    @default("owner")
    def _owner(self):
        return default_owner()

    owner_identities = List(
        Unicode(),
        help="Usernames allowed to act as the owner. Default: the hub user on JupyterHub, "
        "otherwise anyone the server authenticates (a single-user server).",
    ).tag(config=True)

    @default("owner_identities")
    def _owner_identities(self):
        hub_user = os.environ.get("JUPYTERHUB_USER")
        return [hub_user] if hub_user else []

    publisher = Unicode("jupyter-datashare", help="Publisher named in citations, e.g. your institution.").tag(
        config=True
    )
    default_grant_days = Int(365, help="Grant lifetime when the requester asks for none (days).").tag(config=True)
    max_grant_days = Int(730, help="Longest grant a requester may ask for (days).").tag(config=True)
    requests_per_client = Int(5, help="Access requests accepted per client address per window.").tag(config=True)
    requests_client_window = Float(3600.0, help="Window of the access-request limit (seconds).").tag(config=True)
    default_link_days = Int(30, help="Lifetime of a review link when none is given (days).").tag(config=True)
    max_link_days = Int(365, help="Longest lifetime a review link may be given (days).").tag(config=True)
    public_base_url = Unicode(
        "", help="Scheme and host used in generated links, e.g. https://data.example.org. Default: the request's."
    ).tag(config=True)
    checkpoint_every = Int(1000, help="Sign an audit checkpoint at least every this many events.").tag(config=True)
    checkpoint_seconds = Float(60.0, help="...and at least every this many seconds while events arrive.").tag(
        config=True
    )
    failed_lookups_per_client = Int(10, help="Failed secret look-ups allowed per client address per window.").tag(
        config=True
    )
    failed_lookups_client_window = Float(300.0, help="Window of the per-client limit (seconds).").tag(config=True)
    failed_lookups_overall = Int(1000, help="Failed secret look-ups allowed from all clients per window.").tag(
        config=True
    )
    failed_lookups_overall_window = Float(3600.0, help="Window of the overall limit (seconds).").tag(config=True)
    smtp_host = Unicode("", help="SMTP server for e-mail notifications; empty: no e-mail.").tag(config=True)
    smtp_port = Int(25, help="SMTP port.").tag(config=True)
    smtp_from = Unicode("jupyter-datashare@localhost", help="Sender address of notifications.").tag(config=True)
    smtp_username = Unicode("", help="SMTP login, if the server needs one.").tag(config=True)
    smtp_password = Unicode("", help="SMTP password.").tag(config=True)
    smtp_starttls = Bool(False, help="Upgrade the SMTP connection with STARTTLS.").tag(config=True)
    reminder_days = Int(7, help="Remind the committee of requests pending this many days.").tag(config=True)
    expiry_warning_days = Int(14, help="Warn requester and committee this many days before a grant ends.").tag(
        config=True
    )
    download_chunk_size = Int(1 << 20, help="Bytes read and sent per step of a download.").tag(config=True)
    zero_copy = Bool(True, help="Send plain files with sendfile() on non-TLS connections.").tag(config=True)
    send_ahead_downloads = Int(
        4,
        help="Encrypted downloads at once that decrypt on one thread while another sends (two threads "
        "each; about twice as fast on two cores). Further ones decrypt on the event loop. 0: never.",
    ).tag(config=True)
    stall_timeout = Float(
        120.0, help="Seconds a client may read nothing before its encrypted download is cut off."
    ).tag(config=True)
    db_busy_timeout_ms = Int(10_000, help="How long a write waits for the database lock (ms).").tag(config=True)
    master_key = Unicode(
        help="Base64 of 32 random bytes (openssl rand -base64 32) that wrap the keys of encrypted "
        "datasets. Default: $JUPYTER_DATASHARE_MASTER_KEY, else read from master_key_file. "
        "Changing it makes existing encrypted datasets unreadable.",
    ).tag(config=True)
    master_key_file = Unicode(
        help="File holding the master key (32 bytes, or base64 text such as a mounted secret); keep it "
        "away from data_dir so that a copy of the data alone reads nothing. Default: "
        "$JUPYTER_DATASHARE_MASTER_KEY_FILE, else master.key in data_dir, made on first use (mode 0600).",
    ).tag(config=True)
    job_threads = Int(2, help="Shares and versions frozen at once in the background; more wait their turn.").tag(
        config=True
    )
    finished_job_seconds = Float(600.0, help="How long a finished background share can still be read (seconds).").tag(
        config=True
    )
    clock = Instance(Clock, allow_none=True, help="Time source (tests inject a manual clock).").tag(config=True)

    @default("master_key")
    def _master_key_from_environment(self):
        return os.environ.get(MASTER_KEY_ENV, "")

    @default("master_key_file")
    def _master_key_file_from_environment(self):
        return os.environ.get(MASTER_KEY_FILE_ENV, "")

    def settings_for_core(self) -> Settings:
        return Settings(
            root_dir=self.serverapp.root_dir,
            data_dir=self.data_dir,
            db_url=self.db_url,
            owner=self.owner,
            default_link_days=self.default_link_days,
            max_link_days=self.max_link_days,
            public_base_url=self.public_base_url,
            checkpoint_every=self.checkpoint_every,
            checkpoint_seconds=self.checkpoint_seconds,
            failed_lookups_per_client=self.failed_lookups_per_client,
            failed_lookups_client_window=self.failed_lookups_client_window,
            failed_lookups_overall=self.failed_lookups_overall,
            failed_lookups_overall_window=self.failed_lookups_overall_window,
            db_busy_timeout_ms=self.db_busy_timeout_ms,
            master_key=self.master_key,
            master_key_file=self.master_key_file,
            owner_identities=tuple(self.owner_identities),
            default_grant_days=self.default_grant_days,
            max_grant_days=self.max_grant_days,
            requests_per_client=self.requests_per_client,
            requests_client_window=self.requests_client_window,
            publisher=self.publisher,
        )

    def initialize(self):
        try:
            super().initialize()
        except Exception as exc:  # never serve on without the extension: see startup.py
            startup.stop_server(self, exc)

    def initialize_settings(self):
        if self.default_link_days > self.max_link_days:
            raise ValueError("DataShareApp.default_link_days must not exceed max_link_days")
        self.datashare = DataShare(self.settings_for_core(), self.clock)
        if self.smtp_host:
            self.datashare.mailer = notify.Mailer(notify.MailSettings(
                host=self.smtp_host, port=self.smtp_port, sender=self.smtp_from, username=self.smtp_username,
                password=self.smtp_password, starttls=self.smtp_starttls, reminder_days=self.reminder_days,
                expiry_warning_days=self.expiry_warning_days))  # fmt: skip
        self.jobs = Jobs(self.datashare.clock, threads=self.job_threads, keep_seconds=self.finished_job_seconds)
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
