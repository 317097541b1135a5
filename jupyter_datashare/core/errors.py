"""Errors the core raises; adapters (HTTP, CLI, notebook) map them to their own form."""

from __future__ import annotations


class DataShareError(Exception):
    """Base class. ``status`` is the HTTP status an adapter should answer with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message}


class InvalidInput(DataShareError):
    """Bad input, always naming the field it is about."""

    def __init__(self, field: str, message: str, **details):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.details = details  # e.g. the privacy check's findings, for the form to show

    def to_dict(self) -> dict:
        return {**super().to_dict(), "field": self.field, **self.details}


class NotFound(DataShareError):
    status = 404


class AccessDenied(DataShareError):
    """The caller is known but the policy refuses; ``reason`` is safe to show."""

    status = 403


class Gone(DataShareError):
    status = 410


class NoRoom(DataShareError):
    """The disk would be too full: an upload is refused before a byte is written."""

    status = 507


class RangeNotSatisfiable(DataShareError):
    status = 416

    def __init__(self, message: str, size: int):
        super().__init__(message)
        self.size = size


class RateLimited(DataShareError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__("too many failed look-ups; try again later")
        self.retry_after = retry_after


class AuditUnavailable(DataShareError):
    """The audit event could not be made durable, so the action must not happen."""

    status = 503

    def __init__(self, message: str = "the audit log cannot be written right now; nothing was served"):
        super().__init__(message)


class DamagedFile(DataShareError):
    """Stored bytes failed authentication: corrupted, truncated, swapped or tampered with."""

    status = 500

    def __init__(self, problem: str, segment: int | None = None):
        super().__init__(f"the stored copy of this file is damaged ({problem}); it cannot be served")
        self.problem = problem
        self.segment = segment


class KeyUnavailable(DataShareError):
    """An encrypted dataset's key cannot be used (missing or different master key, destroyed key)."""

    status = 500


class Busy(DataShareError):
    """The server is serving as many as it may at once: try again shortly (a 503, never a stall)."""

    status = 503

    def __init__(self, message: str, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after
