"""Notifications against a real SMTP server (aiosmtpd on loopback), started by the test."""

from email import message_from_string
from email.policy import default as email_policy

import pytest

from jupyter_datashare.core import datasets, notify, requests
from tests.inbox import inbox  # noqa: F401 (a fixture)
from tests.server.test_requests import PURPOSE

OWNER = "ada-owner"


@pytest.fixture
def title():
    return "Interviews"


@pytest.fixture
def restricted(core, server_root, inbox, title):
    core.mailer = notify.Mailer(notify.MailSettings(host="127.0.0.1", port=inbox.port, reminder_days=7,
                                                    expiry_warning_days=14))  # fmt: skip
    (server_root / "d").mkdir()
    (server_root / "d" / "t.csv").write_text("a\n1\n")
    made = []
    ds = datasets.share(core, OWNER, {
        "path": "d", "title": title, "access": {"level": "restricted"},
        "committee": {"members": [{"name": "Grace", "email": "grace@example.org"},
                                  {"name": "Lin", "email": "lin@example.org"}]}}, committee_links=made)  # fmt: skip
    return ds, {m.email: m for m, _ in made}


def submit(core, ds, **over):
    body = {"name": "Rosalind", "email": "rosalind@uni.example", "institution": "U", "purpose": PURPOSE,
            "intended_use": ["GRU"], "accept_agreement": True, "requested_days": 30, **over}  # fmt: skip
    return requests.submit(core, ds, body, client="10.0.0.1")[0]


def test_committee_hears_of_new_requests_and_requester_of_decisions(core, restricted, inbox):
    ds, members = restricted
    r = submit(core, ds)
    assert len(inbox.to("grace@example.org")) == 1 and "New access request" in inbox.to("lin@example.org")[0]
    requests.decide(core, r.id, members["grace@example.org"].id, "approve", None)
    (mail,) = inbox.to("rosalind@uni.example")
    assert "approved" in mail and "2026-03-31" in mail and "dss_" not in mail and "dsg_" not in mail
    denied = submit(core, ds, email="other@uni.example")
    requests.decide(core, denied.id, members["lin@example.org"].id, "deny", "no ethics approval")
    assert "no ethics approval" in inbox.to("other@uni.example")[0]
    kinds = [e["details"]["kind"] for e in core.audit.events() if e["action"] == "notification.sent"]
    assert kinds == ["request.new", "request.approved", "request.new", "request.denied"]
    assert "rosalind@uni.example" not in str(core.audit.events())


def test_reminders_and_expiry_warnings_are_sent_once(core, restricted, inbox, clock):
    ds, members = restricted
    waiting = submit(core, ds)
    granted = submit(core, ds, email="g@uni.example")
    requests.decide(core, granted.id, members["grace@example.org"].id, "approve", None)
    inbox.messages.clear()
    assert notify.run_due(core) == {"reminders": 0, "expiry_warnings": 0}
    clock.advance(days=8)
    assert notify.run_due(core) == {"reminders": 1, "expiry_warnings": 0}
    assert waiting.id in inbox.to("grace@example.org")[0]
    clock.advance(days=10)  # 12 days before the 30-day grant ends
    assert notify.run_due(core) == {"reminders": 1, "expiry_warnings": 1}
    assert "ends on" in inbox.to("g@uni.example")[0]
    assert notify.run_due(core) == {"reminders": 0, "expiry_warnings": 0}


def test_an_unreachable_mail_server_never_blocks_the_workflow(core, restricted):
    ds, members = restricted
    core.mailer.settings.port = 1  # nothing listens there
    r = submit(core, ds)
    assert requests.decide(core, r.id, members["lin@example.org"].id, "approve", None)["status"] == "approved"
    assert [e["action"] for e in core.audit.events()].count("notification.failed") == 2


@pytest.mark.parametrize("title, subject", [
    ("Interviews\r\nBcc: eve@evil.example", "[datashare] New access request for Interviews Bcc: eve@evil.example"),
    ("Interviews\u2028part two", "[datashare] New access request for Interviews part two"),
    ("Sleep\u2029study\x07\x1b[2J\x85 2026", "[datashare] New access request for Sleep study [2J 2026"),
])  # fmt: skip
def test_a_title_with_line_breaks_still_reaches_the_committee(core, restricted, inbox, title, subject):
    ds, members = restricted
    r = submit(core, ds)  # before: ValueError from the email package, after the request was stored
    rcpts = sorted({a for to, _ in inbox.messages for a in to})
    assert rcpts == ["grace@example.org", "lin@example.org"]  # no header was injected
    (mail,) = [message_from_string(body, policy=email_policy) for body in inbox.to("grace@example.org")]
    assert mail["Subject"] == subject and mail["Bcc"] is None
    requests.decide(core, r.id, members["grace@example.org"].id, "approve", None)
    assert len(inbox.to("rosalind@uni.example")) == 1
    assert [e["action"] for e in core.audit.events()].count("notification.sent") == 2


def test_a_failing_notification_never_breaks_the_workflow(core, restricted, inbox):
    class Broken(notify.Mailer):  # whatever the mail code does wrong, the request is not lost
        def send(self, to, subject, body):
            raise RuntimeError("bug in the mail code")

    ds, members = restricted
    core.mailer = Broken(core.mailer.settings)
    r = submit(core, ds)
    assert requests.decide(core, r.id, members["lin@example.org"].id, "approve", None)["status"] == "approved"
    failed = [e["details"]["kind"] for e in core.audit.events() if e["action"] == "notification.failed"]
    assert failed == ["request.new", "request.decided"]
