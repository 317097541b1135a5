"""Data access committees: who decides requests for a restricted dataset, and by which rule.

The owner may sit on the committee, but ``required_approvals`` counts only members who cannot
act as the owner (the owner and every name in ``owner_identities``), and they never decide, so
the author is never the only person who controls access.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from email_validator import EmailNotValidError, validate_email

from . import bounds, lookups, secrets
from .audit import Event
from .errors import InvalidInput
from .models import CommitteeMember, Dataset

RULES = ("veto", "majority")


def valid_email(field: str, value) -> str:
    """A syntactically valid address (RFC 5321/5322 via email-validator; no DNS look-up), lower-cased."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be an e-mail address")
    bounds.text(field, value, bounds.EMAIL)
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(field, f"must be an e-mail address ({exc})") from None
    return checked.normalized.lower()


def parse(value) -> dict:
    """Validate a ``committee`` object: members, required_approvals, rule."""
    if not isinstance(value, dict):
        raise InvalidInput("committee", "must be an object with members")
    unknown = sorted(set(value) - {"members", "required_approvals", "rule"})
    if unknown:
        raise InvalidInput(f"committee.{unknown[0]}", "is not a committee field")
    members_in = value.get("members", [])
    if not isinstance(members_in, list):
        raise InvalidInput("committee.members", "must be a list")
    bounds.items("committee.members", members_in, bounds.COMMITTEE_MEMBERS)
    members, seen = [], set()
    for i, m in enumerate(members_in):
        field = f"committee.members[{i}]"
        if isinstance(m, str):
            m = {"username": m}
        if not isinstance(m, dict) or set(m) - {"username", "name", "email"}:
            raise InvalidInput(field, "must be {username} for a Jupyter user or {name, email} for an external member")
        username = bounds.text(f"{field}.username", m.get("username"), bounds.NAME)
        bounds.text(f"{field}.name", m.get("name"), bounds.NAME)
        if username is not None and (not isinstance(username, str) or not username.strip()):
            raise InvalidInput(f"{field}.username", "must not be empty")
        email = valid_email(f"{field}.email", m["email"]) if m.get("email") else None
        if username is None and email is None:
            raise InvalidInput(field, "needs a username or an e-mail address")
        name = m.get("name") or (username or "")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{field}.name", "must not be empty for an external member")
        key = ("u", username.strip()) if username else ("e", email)
        if key in seen:
            raise InvalidInput(field, "is listed twice")
        seen.add(key)
        members.append({"username": username.strip() if username else None, "name": name.strip(), "email": email})
    required = value.get("required_approvals", 1)
    if isinstance(required, bool) or not isinstance(required, int) or required < 1:
        raise InvalidInput("committee.required_approvals", "must be a whole number of at least 1")
    rule = value.get("rule", "veto")
    if rule not in RULES:
        raise InvalidInput("committee.rule", f"must be one of {', '.join(RULES)}")
    return {"members": members, "required_approvals": required, "rule": rule}


class EveryIdentity(frozenset):
    """Every Jupyter username: on a server without ``owner_identities`` whoever it authenticates
    acts as the owner (a single-user server has one person behind every login)."""

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and bool(name)

    def __or__(self, other):  # adding names to everyone is still everyone
        return EveryIdentity(frozenset(self) | frozenset(other))

    __ror__ = __or__


def acting_owners(settings, owner: str | None = None) -> frozenset[str]:
    """Every username that may act as the owner (the owner, a dataset's owner, owner_identities):
    none of them counts towards a quorum or decides, or the owner could be the whole committee."""
    if settings.many_owners:  # the service: the dataset's owner alone acts for it
        return frozenset([owner] if owner else [])
    if not settings.owner_identities:
        return EveryIdentity((settings.owner, owner) if owner else (settings.owner,))
    return frozenset(n for n in (settings.owner, owner, *settings.owner_identities) if n)


def _names(owners: str | Iterable[str]) -> frozenset[str]:
    if isinstance(owners, frozenset):
        return owners
    return frozenset([owners]) if isinstance(owners, str) else frozenset(owners)


def counted(member: dict | CommitteeMember, owners: str | Iterable[str]) -> bool:
    """Whether a member counts towards the quorum; ``owners`` is every name that acts as the owner."""
    username = member["username"] if isinstance(member, dict) else member.username
    return username is None or username not in _names(owners)


def check_quorum_possible(spec: dict, owners: str | Iterable[str]) -> None:
    eligible = sum(1 for m in spec["members"] if counted(m, owners))
    if eligible < spec["required_approvals"]:
        names = _names(owners)
        why = (
            "on this server every Jupyter user may act as the owner, so only external members (name and "
            "e-mail) count; set c.DataShareApp.owner_identities to let other Jupyter users decide"
            if isinstance(names, EveryIdentity)
            else f"members who may act as the owner ({', '.join(sorted(names))}) never count"
        )
        raise InvalidInput(
            "committee.members",
            f"a restricted dataset needs at least {spec['required_approvals']} committee member(s) who count "
            f"towards the quorum, and it has {eligible}: {why}",
        )


def active(session, dataset_id: str) -> list[CommitteeMember]:
    return list(
        session.scalars(
            select(CommitteeMember)
            .where(CommitteeMember.dataset_id == dataset_id, CommitteeMember.removed_at.is_(None))
            .order_by(CommitteeMember.added_at, CommitteeMember.id)
        )
    )


def apply(ctx, session, ds: Dataset, spec: dict, actor: str, client: str | None) -> list[tuple[CommitteeMember, str]]:
    """Make the committee match ``spec``; returns (member, secret) for each new external member —
    the only time their personal committee link can be shown."""
    now = ctx.now()
    current = active(session, ds.id)
    key = lambda m: ("u", m.username) if m.username else ("e", m.email)  # noqa: E731
    wanted = {(("u", m["username"]) if m["username"] else ("e", m["email"])): m for m in spec["members"]}
    removed = [m for m in current if key(m) not in wanted]
    for m in removed:
        m.removed_at = now
    existing = {key(m) for m in current}
    created = []
    for k, m in wanted.items():
        if k in existing:
            continue
        secret = None if m["username"] else secrets.new_secret(secrets.COMMITTEE)
        row = CommitteeMember(
            id=secrets.new_id("cm-"), dataset_id=ds.id, username=m["username"], name=m["name"], email=m["email"],
            secret_hash=secrets.digest(secret) if secret else None, added_at=now,
        )  # fmt: skip
        session.add(row)
        created.append((row, secret))
    changed = bool(removed or created) or (ds.required_approvals, ds.decision_rule) != (spec["required_approvals"], spec["rule"])
    ds.required_approvals, ds.decision_rule = spec["required_approvals"], spec["rule"]
    session.flush()
    if changed:
        ctx.audit.append(session, Event("committee.changed", actor, dataset_id=ds.id, client=client, details={
            "added": [m.id for m, _ in created], "removed": [m.id for m in removed],
            "required_approvals": spec["required_approvals"], "rule": spec["rule"]}))  # fmt: skip
    return created


def member_view(m: CommitteeMember, owner: str | Iterable[str]) -> dict:
    return {
        "id": m.id,
        "username": m.username,
        "name": m.name,
        "email": m.email,
        "kind": "jupyter" if m.username else "external",
        "counts_towards_quorum": counted(m, owner),
    }


def find_by_secret(session, secret: str) -> CommitteeMember | None:
    """The current external member behind ``secret``; unknown and removed members take the
    same path (one narrow query, one constant-time compare); only a current one is loaded whole."""

    def find(digest):
        row = session.execute(
            select(CommitteeMember.id, CommitteeMember.secret_hash, CommitteeMember.removed_at).where(
                CommitteeMember.secret_hash == digest
            )
        ).first()
        return (row, row.secret_hash) if row is not None else (None, None)

    row = lookups.lookup(secret, secrets.COMMITTEE, find)
    return session.get(CommitteeMember, row.id) if row is not None and row.removed_at is None else None
