"""Time is injected so that embargoes and expiries are testable without sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    """The real clock. Tests use a subclass whose time they move by hand."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def __deepcopy__(self, memo):
        # A clock is a shared time source: configuration copies must keep pointing at it.
        return self


class ManualClock(Clock):
    """A clock that only moves when told to (tests, demos, the benchmark)."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z suffix, the one time format of the JSON API."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_when(field: str, value) -> datetime:
    """Parse a date (midnight UTC) or an ISO datetime; naive values are taken as UTC."""
    from .errors import InvalidInput

    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a date such as 2027-01-31 or an ISO 8601 date-time")
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"'{value}' is not a date such as 2027-01-31") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
