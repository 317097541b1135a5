"""E-mail notifications of the access-request workflow (only when an SMTP server is configured).

Mail never carries a capability secret: requesters keep the status link they were shown, and
external members their personal committee link. A failed delivery is logged and recorded, but
never undoes the decision or request it is about.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from . import committee
from .audit import Event
from .db import reading
from .models import AccessRequest, Dataset, Grant

log = logging.getLogger(__name__)


@dataclass
class MailSettings:
    host: str
    port: int = 25
    sender: str = "jupyter-datashare@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    reminder_days: int = 7
    expiry_warning_days: int = 14


def subject_line(text: str) -> str:
    """One line for a header: titles are the owner's free text and may hold line breaks
    (CR, LF, U+2028, U+2029) or other control characters, which no header may carry."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text))
    return " ".join(cleaned.split())


class Mailer:
    def __init__(self, settings: MailSettings):
        self.settings = settings

    def send(self, to: list[str], subject: str, body: str) -> bool:
        to = sorted({t for t in to if t})
        if not to:
            return False
        subject = subject_line(subject)
        try:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = self.settings.sender, ", ".join(to), subject
            msg.set_content(body)
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=15) as smtp:
                if self.settings.starttls:
                    smtp.starttls()
                if self.settings.username:
                    smtp.login(self.settings.username, self.settings.password)
                smtp.send_message(msg)
            return True
        except (OSError, smtplib.SMTPException, ValueError, TypeError, UnicodeError) as exc:
            # ValueError/TypeError: a message the email package refuses to build (an odd address).
            log.warning("jupyter_datashare: could not send '%s': %s", subject, exc)
            return False


def _never_raises(kind: str):
    """The request or decision is already committed when we mail about it: whatever goes wrong
    here is logged (and recorded if it can be) but never reaches the requester or member."""

    def wrap(fn):
        @functools.wraps(fn)
        def guarded(ctx, request_id: str) -> None:
            try:
                fn(ctx, request_id)
            except Exception:
                log.exception("jupyter_datashare: notification %s about %s failed", kind, request_id)
                try:
                    with reading(ctx.engine) as s:
                        r = s.get(AccessRequest, request_id)
                        dataset_id = r.dataset_id if r is not None else None
                    _sent(ctx, kind, False, dataset_id, request=request_id)
                except Exception:
                    log.exception("jupyter_datashare: could not record the failed notification")

        return guarded

    return wrap


def _mailer(ctx) -> Mailer | None:
    return getattr(ctx, "mailer", None)


def _committee_emails(session, dataset_id: str) -> list[str]:
    return [m.email for m in committee.active(session, dataset_id) if m.email]


def _sent(ctx, kind: str, ok: bool, dataset_id: str, **details) -> None:
    # The recipients are personal data: the event names the kind of message and its subject only.
    ctx.audit.record(Event("notification.sent" if ok else "notification.failed", "system", outcome="ok" if ok else "error",
                           dataset_id=dataset_id, details={"kind": kind, **details}))  # fmt: skip


def _about(ctx, request_id: str):
    """The request, its dataset, its grant (if any) and the committee's addresses."""
    with reading(ctx.engine) as s:
        r = s.get(AccessRequest, request_id)
        grant = s.scalar(select(Grant).where(Grant.request_id == r.id))
        return r, s.get(Dataset, r.dataset_id), grant, _committee_emails(s, r.dataset_id)


@_never_raises("request.new")
def new_request(ctx, request_id: str) -> None:
    mailer = _mailer(ctx)
    if mailer is None:
        return
    r, ds, _, to = _about(ctx, request_id)
    flags = "".join(f"\n  - {f}" for f in r.flags)
    body = (f"A new access request ({r.id}) for “{ds.title}” is waiting for the data access committee.\n\n"
            f"Intended use: {', '.join(r.intended_use)}{' (commercial)' if r.commercial else ''}\n"
            f"Requested for: {r.requested_days} days\n"
            + (f"Flagged:{flags}\n" if r.flags else "")
            + "\nDecide in JupyterLab or through your personal committee link.\n")  # fmt: skip
    _sent(ctx, "request.new", mailer.send(to, f"[datashare] New access request for {ds.title}", body), ds.id, request=r.id)


@_never_raises("request.decided")
def decision(ctx, request_id: str) -> None:
    mailer = _mailer(ctx)
    if mailer is None:
        return
    r, ds, grant, _ = _about(ctx, request_id)
    if r.status == "approved":
        body = (f"Your request ({r.id}) for “{ds.title}” was approved. Your access ends on "
                f"{grant.expires_at.date().isoformat()}. The download links are on the status page you "
                "were given when you sent the request.\n")  # fmt: skip
    else:
        body = f"Your request ({r.id}) for “{ds.title}” was not approved.\nThe committee's reason: {r.reason}\n"
    _sent(ctx, f"request.{r.status}", mailer.send([r.email], f"[datashare] Your access request: {r.status}", body),
          ds.id, request=r.id)  # fmt: skip


def run_due(ctx) -> dict:
    """Reminders for requests pending too long and warnings before grants expire (idempotent)."""
    mailer = _mailer(ctx)
    if mailer is None:
        return {"reminders": 0, "expiry_warnings": 0}
    now, cfg = ctx.now(), mailer.settings
    counts = {"reminders": 0, "expiry_warnings": 0}
    with ctx.audit.transaction() as s:
        stale = now - timedelta(days=cfg.reminder_days)
        for r in s.scalars(select(AccessRequest).where(AccessRequest.status == "pending", AccessRequest.submitted_at <= stale)):
            if r.reminded_at is not None and r.reminded_at > stale:
                continue
            ds = s.get(Dataset, r.dataset_id)
            days = (now - r.submitted_at).days
            ok = mailer.send(_committee_emails(s, ds.id), f"[datashare] Reminder: a request for {ds.title} waits",
                             f"Access request {r.id} for “{ds.title}” has been waiting for {days} days.\n")  # fmt: skip
            r.reminded_at = now
            counts["reminders"] += 1
            ctx.audit.append(s, Event("notification.sent" if ok else "notification.failed", "system",
                                      dataset_id=ds.id, details={"kind": "request.reminder", "request": r.id}))  # fmt: skip
        soon = now + timedelta(days=cfg.expiry_warning_days)
        for g in s.scalars(select(Grant).where(Grant.revoked_at.is_(None), Grant.expiry_warned_at.is_(None),
                                               Grant.expires_at > now, Grant.expires_at <= soon)):  # fmt: skip
            r, ds = s.get(AccessRequest, g.request_id), s.get(Dataset, g.dataset_id)
            body = (f"Access to “{ds.title}” under request {r.id} ends on {g.expires_at.date().isoformat()}. "
                    "The requester can ask for a renewal on their status page.\n")  # fmt: skip
            ok = mailer.send([r.email, *_committee_emails(s, ds.id)], f"[datashare] Access to {ds.title} ends soon", body)
            g.expiry_warned_at = now
            counts["expiry_warnings"] += 1
            ctx.audit.append(s, Event("notification.sent" if ok else "notification.failed", "system", dataset_id=ds.id,
                                      grant_id=g.id, details={"kind": "grant.expiring"}))  # fmt: skip
    return counts
