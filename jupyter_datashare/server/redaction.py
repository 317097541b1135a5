"""Keeping capability secrets out of every log line.

Three layers, because secrets reach logs by different roads:

- ``redact_request`` rewrites a public request's URI, path and Referer as soon as its handler
  exists, before tornado parses the body or checks XSRF (both of which may log the URI);
- ``redacting`` wraps jupyter-server's access log, which runs for every route, ours or not;
- ``RedactingFilter`` (on the tornado and server loggers and on the handlers they write to) and a
  log-record factory rewrite every record of every logger, whatever route or library made it,
  such as tornado's XSRF warning for a POST to a route that is not ours.

What counts as a secret is ``core.secrets.redact`` (anything from a ``dsr_``-style prefix on,
whole or cut short, raw or percent-encoded), plus whatever sits where a secret belongs in one of
our capability routes (``datashare/r/<secret>``), so a secret with a mangled prefix is caught too.
"""

from __future__ import annotations

import logging
import re

from ..core.secrets import redact

# The segment after a capability route's letter is a secret whatever it looks like. The routes
# live under /datashare/ in a Jupyter server and under the service's own base URL (also_under).
_prefixes = ["/datashare/"]


def _segment_pattern() -> re.Pattern:
    alternatives = "|".join(re.escape(p) for p in sorted(set(_prefixes), key=len, reverse=True))
    return re.compile(rf"((?:{alternatives})[rsgc]/)(?!ds[a-z?]_\[redacted\])[^/?#\s\"'<>]+")


_CAPABILITY_SEGMENT = _segment_pattern()


def also_under(base_url: str) -> None:
    """Capability routes are served under ``base_url`` too (the service): redact them there."""
    global _CAPABILITY_SEGMENT
    _prefixes.append("/" + base_url.strip("/") + "/" if base_url.strip("/") else "/")
    _CAPABILITY_SEGMENT = _segment_pattern()


# The hub's OAuth sends a one-time code (and the state bound to the login cookie) back to the
# service's oauth_callback in the query string: a log reader could finish the login with them.
_OAUTH_CALLBACK = re.compile(r"oauth_callback\?[^\s\"'<>#]*")
_OAUTH_PARAMETER = re.compile(r"((?:\?|&|&amp;)(?:code|state)=)[^&\s\"'<>#]+")


def _oauth_redacted(match: re.Match) -> str:
    return _OAUTH_PARAMETER.sub(r"\1[redacted]", match.group(0))


def redact_line(text: str) -> str:
    text = _OAUTH_CALLBACK.sub(_oauth_redacted, redact(text))
    return _CAPABILITY_SEGMENT.sub(r"\1[redacted]", text)


def redact_request(request) -> None:
    """Rewrite the request's URI, path and Referer so no later log line can carry a secret.

    jupyter-server scrubs only query strings; our secrets travel in the path. Routing has already
    happened (the handler's arguments hold the real secret), so nothing else needs the originals.
    """
    request.uri = redact_line(request.uri)
    request.path = redact_line(request.path)
    if "Referer" in request.headers:
        request.headers["Referer"] = redact_line(request.headers["Referer"])


def redacting(log_function):
    """Wrap jupyter-server's access log so a secret in a path or Referer is never written."""

    def log(handler):
        request = handler.request
        uri, referer = request.uri, request.headers.get("Referer")
        request.uri = redact_line(uri)
        if referer:
            request.headers["Referer"] = redact_line(referer)
        try:
            log_function(handler)
        finally:
            request.uri = uri

    log._datashare_redacting = True
    return log


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite a record in place: its message (with its arguments), traceback and stack."""
    if getattr(record, "_datashare_redacted", False):
        return
    record._datashare_redacted = True
    try:
        message = record.getMessage()
    except Exception:  # a broken format; logging reports it, with our redacted text
        message = f"{record.msg} {record.args!r}"
    clean = redact_line(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text once it is set, so the redacted traceback is the one written.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_line(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_line(record.stack_info)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install(settings: dict, *loggers: logging.Logger) -> None:
    """Redact the access log (``settings`` are the web app's) and every log record (idempotent)."""
    log_function = settings.get("log_function")
    if log_function and not getattr(log_function, "_datashare_redacting", False):
        settings["log_function"] = redacting(log_function)
    named = [logging.getLogger(n) for n in ("tornado", "tornado.access", "tornado.application", "tornado.general")]
    for logger in [logging.getLogger(), *named, *loggers]:
        for target in [logger, *logger.handlers]:
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())
    _install_record_factory()


def _install_record_factory() -> None:
    """Loggers and handlers made later (a library's, a logging configuration's) are covered too:
    every record is redacted as it is made."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_datashare_redacting", False):
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    factory._datashare_redacting = True
    logging.setLogRecordFactory(factory)
