"""Who may see what: the one place that turns an access level into a yes or a no.

Everything here is a pure function of the dataset, the principal and the time, so that the
embargo lifts by itself at its date: nothing has to run at midnight for it to be right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .clock import parse_when
from .errors import InvalidInput

OPEN, EMBARGOED, REVIEWER_ONLY, RESTRICTED = "open", "embargoed", "reviewer-only", "restricted"
LEVELS = (OPEN, EMBARGOED, REVIEWER_ONLY, RESTRICTED)
AFTER_EMBARGO = (OPEN, RESTRICTED, REVIEWER_ONLY)

LEVEL_SUMMARIES = {
    OPEN: "Anyone can read the description and download the files.",
    EMBARGOED: "The description is public; files open automatically on the embargo date.",
    REVIEWER_ONLY: "Only holders of a private review link can see the dataset at all.",
    RESTRICTED: "The description is public; files go only to people granted access.",
}


@dataclass(frozen=True)
class Access:
    level: str
    embargo_until: datetime | None = None
    after_embargo: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``kind`` is owner, link or public; ``link`` carries the review link row."""

    kind: str
    name: str
    link: object | None = None

    @property
    def audit_actor(self) -> str:
        return self.name


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    level: str  # the level in force at that moment (after any embargo lifted)

    @property
    def audited(self) -> bool:
        """Every access to non-open data is logged; so is every use of a review link."""
        return self.level != OPEN or self.reason in ("review link", "access grant")


def validate_access(value, now: datetime) -> Access:
    if not isinstance(value, dict):
        raise InvalidInput("access", "must be an object with a level")
    level = value.get("level")
    if level not in LEVELS:
        raise InvalidInput("access.level", f"must be one of {', '.join(LEVELS)}, not {level!r}")
    if level != EMBARGOED:
        for field in ("embargo_until", "after_embargo"):
            if value.get(field) not in (None, ""):
                raise InvalidInput(f"access.{field}", "applies only to the embargoed level")
        return Access(level)
    if value.get("embargo_until") in (None, ""):
        raise InvalidInput("access.embargo_until", "is required for an embargoed dataset")
    until = parse_when("access.embargo_until", value["embargo_until"])
    if until <= now:
        raise InvalidInput("access.embargo_until", "must be in the future")
    after = value.get("after_embargo") or OPEN
    if after not in AFTER_EMBARGO:
        raise InvalidInput("access.after_embargo", f"must be one of {', '.join(AFTER_EMBARGO)}")
    return Access(level, until, after)


def level_in_force(dataset, now: datetime) -> str:
    if dataset.access_level == EMBARGOED and dataset.embargo_until is not None and now >= dataset.embargo_until:
        return dataset.after_embargo or OPEN
    return dataset.access_level


def embargo_just_lifted(dataset, now: datetime) -> bool:
    """True the first time anyone looks after the embargo date (to record ``embargo.lifted``)."""
    return (
        dataset.access_level == EMBARGOED
        and not dataset.embargo_lift_recorded
        and level_in_force(dataset, now) != EMBARGOED
    )


def can_see_metadata(dataset, principal: Principal, now: datetime) -> bool:
    if dataset.withdrawn_at is not None:
        return principal.kind == "owner"
    if principal.kind in ("owner", "link", "grant"):
        return True
    return level_in_force(dataset, now) != REVIEWER_ONLY


def can_read_files(dataset, principal: Principal, now: datetime) -> Decision:
    level = level_in_force(dataset, now)
    if dataset.withdrawn_at is not None:
        return Decision(False, "the dataset was withdrawn", level)
    if principal.kind == "owner":
        return Decision(True, "owner", level)
    if principal.kind == "grant":
        return Decision(True, "access grant", level)
    if principal.kind == "link":
        if level == RESTRICTED and not getattr(principal.link, "allow_restricted", False):
            return Decision(False, "this review link does not open restricted files", level)
        return Decision(True, "review link", level)
    if level == OPEN:
        return Decision(True, "open data", level)
    if level == EMBARGOED:
        return Decision(False, f"under embargo until {dataset.embargo_until.date().isoformat()}", level)
    if level == RESTRICTED:
        return Decision(False, "restricted: files are shared only with people granted access", level)
    return Decision(False, "available to reviewers only", level)
