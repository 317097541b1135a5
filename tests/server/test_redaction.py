"""No capability secret reaches any log line: whole, cut short, percent-encoded, in any logger."""

import logging

import pytest

from jupyter_datashare.core import secrets
from jupyter_datashare.server.redaction import redact_line
from tests.conftest import link_for


class Collect(logging.Handler):
    """Keeps every record it sees (it has no filter of its own: it sees what any new handler would)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def logs(jp_serverapp, caplog, capfd):
    """Everything the server logs: records of every logger at DEBUG (seen by a new handler and by
    caplog), formatted by the server's own handlers, and what those handlers wrote to stderr."""
    caplog.set_level(logging.DEBUG)
    collector = Collect()
    ext = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_datashare"]))
    names = ("tornado", "tornado.access", "tornado.application", "tornado.general", "jupyter_datashare")
    loggers = [jp_serverapp.log, ext.log, logging.getLogger()] + [logging.getLogger(n) for n in names]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(collector)
        lg.setLevel(logging.DEBUG)

    def text() -> str:
        server_handlers = [h for lg in loggers for h in lg.handlers if h is not collector]
        lines = [r.getMessage() for r in collector.records]
        lines += [h.format(r) for r in collector.records for h in server_handlers]
        lines += [logging.Formatter().format(r) for r in caplog.records] + [caplog.text]
        out, err = capfd.readouterr()
        return "\n".join([*lines, out, err])

    yield text
    for lg, level in saved:
        lg.removeHandler(collector)
        lg.setLevel(level)


def assert_clean(text: str, secret: str) -> None:
    body = secret[4:]
    assert secret[:-1] not in text and body[:-1] not in text
    for i in range(len(body) - 7):  # not even a piece long enough to narrow a guess
        assert body[i : i + 8] not in text, body[i : i + 8]


def encoded(secret: str, how: str) -> str:
    if how == "underscore":
        return secret[:3] + "%5F" + secret[4:]
    if how == "double":
        return "%2564" + secret[1:3] + "%255f" + secret[4:]
    return "".join(f"%{ord(c):02X}" for c in secret)  # every character


async def test_no_form_of_a_secret_reaches_the_logs(call, share, http_server_client, jp_base_url, logs):
    d = await share(access={"level": "reviewer-only"})
    secret = (await link_for(call, d["id"]))["url"].rsplit("/", 1)[1]
    base = jp_base_url + "datashare/r/"

    async def raw(method, path, **kw):
        body = "x=1" if method == "POST" else None
        return await http_server_client.fetch(path, method=method, body=body, raise_error=False,
                                              headers={"Authorization": "", **kw.pop("headers", {})}, **kw)  # fmt: skip

    # (a) the valid secret: pages, a 4xx below it, a Referer and a query string carrying it
    assert (await raw("GET", base + secret)).code == 200
    r = await raw("GET", base + secret + "/files/missing.csv", headers={"Referer": f"https://x.example/r/{secret}"})
    assert r.code == 404
    assert (await raw("GET", jp_base_url + f"datashare/d/nothing?from={secret}")).code == 404
    # (b) one character short: 404, and logged without the 42 characters it shares with the live one
    assert (await raw("GET", base + secret[:-1])).code == 404
    assert (await raw("GET", base + secret[:-1] + "/files/table.csv")).code == 404
    # (c) percent-encoded: the same URL by RFC 3986 (tornado decodes path arguments), so it opens
    # the link; what matters is that no log line carries it in any encoding.
    for how in ("underscore", "double", "every"):
        expected = 404 if how == "double" else 200  # decoded once, "%5f" is not a secret character
        assert (await raw("GET", base + encoded(secret, how))).code == expected, how
        assert (await raw("GET", base + encoded(secret, how) + "/files/missing.csv")).code == 404
    # (d) POSTs without an XSRF token, with the secret in the path, to our routes and to others
    for path in (base + secret, jp_base_url + f"datashare/api/requests/{secret}/decision",
                 jp_base_url + f"api/contents/{secret}", base + encoded(secret, "every")):  # fmt: skip
        assert (await raw("POST", path)).code in (403, 404, 405), path

    text = logs()
    assert "_xsrf" in text  # tornado's XSRF warning was written, and is among what we checked
    assert "datashare/r/dsr_[redacted]" in text and "404 GET" in text
    assert_clean(text, secret)


async def test_tracebacks_and_other_loggers_are_redacted(jp_serverapp, logs):
    secret = secrets.new_secret(secrets.GRANT)
    try:
        raise ValueError(f"cannot open /datashare/g/{secret}/files/a.csv")
    except ValueError:
        logging.getLogger("some.library").error("failed on %s", secret[:-3], exc_info=True)
    jp_serverapp.log.warning("%(url)s", {"url": "https://h/datashare/g/" + encoded(secret, "every")})
    text = logs()
    assert "cannot open /datashare/g/dsg_[redacted]/files/a.csv" in text and "failed on dsg_[redacted]" in text
    assert_clean(text, secret)


@pytest.mark.parametrize("prefix", secrets.PREFIXES)
def test_every_kind_of_secret_is_redacted_whole_cut_or_encoded(prefix):
    secret = secrets.new_secret(prefix)
    for form in (secret, secret[:-1], secret[:6], secret.upper(), encoded(secret, "underscore"),
                 encoded(secret, "double"), encoded(secret, "every"), f"{secret[:2]}%{ord(secret[2]):02x}{secret[3:]}"):  # fmt: skip
        line = redact_line(f"GET /x/{form}/files/a.csv?next={form} ref={form}")
        assert secret[4:8] not in line and "%" not in line, form
        assert line == f"GET /x/{prefix}[redacted]/files/a.csv?next={prefix}[redacted] ref={prefix}[redacted]"


def test_what_is_not_a_secret_stays_readable():
    for line in ("GET /datashare/d/ds-abc/files/funds_total.csv", "dsr_ is a prefix", "dsx_abc", "dsr_[redacted]"):
        assert redact_line(line) == line
    # Under a capability route, whatever stands where the secret goes is hidden, prefix or not.
    assert redact_line("/datashare/r/QmFzZTY0IGxvb2tzIGxpa2UgYSBzZWNyZXQ/files/x") == "/datashare/r/[redacted]/files/x"


def test_the_hub_s_one_time_login_code_is_not_logged():
    line = "302 GET /services/datashare/oauth_callback?code=Zm9vYmFy123&state=eyJ1dWlkIjoiYSJ9 (127.0.0.1) 4ms"
    assert redact_line(line) == "302 GET /services/datashare/oauth_callback?code=[redacted]&state=[redacted] (127.0.0.1) 4ms"
    # A filter of our own API that happens to be called state stays readable.
    assert redact_line("GET /services/datashare/api/requests?state=pending") == "GET /services/datashare/api/requests?state=pending"
