"""What both adapters give the handlers (the Jupyter extension and the service): the core's
mailer, the background jobs, the settings the routes read, and the timer's work."""

from __future__ import annotations

from ..core import notify
from ..core.jobs import Jobs
from .pages import Pages
from .pools import Pools
from .senders import Senders


def handler_settings(options, ctx) -> dict:
    """``options`` is the one DataShareConfig; ``ctx`` the core it made. Starts the jobs' threads."""
    if options.smtp_host:
        ctx.mailer = notify.Mailer(notify.MailSettings(
            host=options.smtp_host, port=options.smtp_port, sender=options.smtp_from, username=options.smtp_username,
            password=options.smtp_password, starttls=options.smtp_starttls, reminder_days=options.reminder_days,
            expiry_warning_days=options.expiry_warning_days))  # fmt: skip
    return {
        "datashare": ctx,
        "datashare_jobs": Jobs(ctx.engine, ctx.clock, threads=options.job_threads, keep_seconds=options.finished_job_seconds),
        "datashare_pages": Pages(),
        "datashare_chunk_size": options.download_chunk_size,
        "datashare_max_upload_bytes": options.max_upload_bytes,
        "datashare_upload_keep_free": options.upload_keep_free_bytes,
        "datashare_zero_copy": options.zero_copy,
        "datashare_senders": Senders(options.download_processes, options.downloads_at_once, options.downloads_waiting,
                                     options.download_wait_seconds, options.stall_timeout, nice=options.download_nice),
        "datashare_pools": Pools(public=options.public_threads, public_waiting=options.public_waiting,
                                 owner=options.owner_threads),
    }


def close(settings: dict) -> None:
    """Stop what ``handler_settings`` started: the sending processes and the threads."""
    settings["datashare_senders"].close()
    settings["datashare_pools"].close()


def every_so_often(ctx) -> None:
    """The timer's work (in a thread): sign a checkpoint, so a quiet log is still covered by a
    recent one; send due reminders and expiry warnings (idempotent)."""
    ctx.audit.checkpoint()
    notify.run_due(ctx)
