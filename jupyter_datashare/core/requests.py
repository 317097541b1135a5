"""Access requests to restricted datasets and the committee's decisions on them.

Events name requests by id only: the requester's name, e-mail, institution and purpose stay in
the ``access_requests`` row, so they can be erased on request without breaking the audit log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from sqlalchemy import select

from . import bounds, committee, duo, grants, lookups, notify, policy, secrets
from .audit import Event
from .db import reading
from .errors import AccessDenied, InvalidInput, NotFound
from .models import AccessRequest, CommitteeMember, Dataset, Decision, Grant

PENDING, APPROVED, DENIED = "pending", "approved", "denied"
FIELDS = {"name", "email", "institution", "orcid", "purpose", "intended_use", "commercial",
          "accept_agreement", "requested_days"}  # fmt: skip
MIN_PURPOSE = 100  # characters: a sentence or two on what will be done with the data


def agreement_hash(text: str) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def _text(body, field, *, max_len=300, min_len=1) -> str:
    value = body.get(field)
    if not isinstance(value, str) or len(value.strip()) < min_len:
        if min_len > 1:
            raise InvalidInput(field, f"must be at least {min_len} characters: say what you will do with the data")
        raise InvalidInput(field, "is required")
    return bounds.text(field, value, max_len).strip()


def _validate(ctx, body: dict) -> dict:
    import idutils

    if not isinstance(body, dict):
        raise InvalidInput("body", "must be an object")
    unknown = sorted(set(body) - FIELDS - {"_xsrf"})
    if unknown:
        raise InvalidInput(unknown[0][: bounds.IDENTIFIER], "is not a field of an access request")
    out = {
        "name": _text(body, "name", max_len=bounds.NAME),
        "email": committee.valid_email("email", body.get("email")),
        "institution": _text(body, "institution", max_len=bounds.NAME),
        "purpose": _text(body, "purpose", max_len=bounds.PURPOSE, min_len=MIN_PURPOSE),
        "intended_use": duo.validate_intended_use(body.get("intended_use")),
    }
    orcid = bounds.text("orcid", body.get("orcid"), bounds.IDENTIFIER)
    if orcid not in (None, ""):
        if not isinstance(orcid, str) or not idutils.is_orcid(orcid.strip()):
            raise InvalidInput("orcid", f"'{orcid}' is not a valid ORCID iD")
        out["orcid"] = idutils.normalize_orcid(orcid.strip())
    commercial = body.get("commercial", False)
    if not isinstance(commercial, bool):
        raise InvalidInput("commercial", "must be true or false")
    out["commercial"] = commercial
    if body.get("accept_agreement") is not True:
        raise InvalidInput("accept_agreement", "you must accept the data use agreement")
    days = body.get("requested_days", ctx.settings.default_grant_days)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidInput("requested_days", "must be a whole number of days, at least 1")
    if days > ctx.settings.max_grant_days:
        raise InvalidInput("requested_days", f"must be at most {ctx.settings.max_grant_days} days")
    out["requested_days"] = days
    return out


def submit(ctx, dataset_id: str, body: dict, *, client: str, identity: str | None = None) -> tuple[AccessRequest, str]:
    """Record a request; returns it with the requester's status secret (shown once)."""
    ctx.request_limiter.check(client)
    now = ctx.now()
    with reading(ctx.engine) as s:
        ds = s.get(Dataset, dataset_id) if isinstance(dataset_id, str) else None
        if ds is None or ds.withdrawn_at is not None or not policy.can_see_metadata(ds, policy.Principal("public", "public"), now):
            raise NotFound("no such dataset")
        if policy.level_in_force(ds, now) != policy.RESTRICTED:
            raise InvalidInput("dataset", "only restricted datasets take access requests")
        conditions, agreement = list(ds.use_conditions or []), ds.agreement or ""
    fields = _validate(ctx, body)
    ctx.request_limiter.failed(client)  # every submission counts against the flood limit
    status_secret = secrets.new_secret(secrets.STATUS)
    flags = duo.conflicts(conditions, fields["intended_use"], fields["commercial"])
    with ctx.audit.transaction() as s:
        row = AccessRequest(
            id=secrets.new_id("req-"), dataset_id=dataset_id, status=PENDING, flags=flags,
            agreement_sha256=agreement_hash(agreement), submitted_by=identity,
            status_secret_hash=secrets.digest(status_secret),
            grant_secret_hash=secrets.digest(grants.derive_secret(status_secret)),
            submitted_at=now, **fields,
        )  # fmt: skip
        s.add(row)
        s.flush()
        ctx.audit.append(s, Event("request.submitted", "requester", dataset_id=dataset_id, client=client,
                                  details={"request": row.id, "intended_use": fields["intended_use"],
                                           "requested_days": fields["requested_days"],
                                           "agreement_sha256": row.agreement_sha256}))  # fmt: skip
        if flags:
            ctx.audit.append(s, Event("request.flagged", "system", dataset_id=dataset_id,
                                      details={"request": row.id, "conflicts": flags}))  # fmt: skip
    notify.new_request(ctx, row.id)
    return row, status_secret


# -- who may decide ----------------------------------------------------------------------------


GROUP = "group:"  # a committee seat held by a hub group: ``group:NAME`` (any of its members may cast it)


def seats_of(username: str | None, groups=()) -> tuple[str, ...]:
    """The committee usernames a Jupyter identity sits as: its own, and ``group:NAME`` per group."""
    return ((username,) if username else ()) + tuple(GROUP + g for g in groups)


def members_for_identity(session, username: str, groups=()) -> list[CommitteeMember]:
    seats = seats_of(username, groups)
    return list(
        session.scalars(
            select(CommitteeMember).where(CommitteeMember.username.in_(seats), CommitteeMember.removed_at.is_(None))
        )
    )


def seat_for(ctx, request_id, username: str, groups=()) -> CommitteeMember:
    """The committee seat from which ``username`` (with their hub ``groups``) decides a request:
    their own, or a group's; NotFound naming nothing else when they have none."""
    with reading(ctx.engine) as s:
        r = s.get(AccessRequest, request_id) if isinstance(request_id, str) else None
        if r is not None:
            for m in members_for_identity(s, username, groups):
                if m.dataset_id == r.dataset_id:
                    return m
    raise NotFound(f"no request '{request_id}' for you to decide")


@dataclass(frozen=True)
class Reader:
    """Who reads a request view: a Jupyter identity or an external member (by their link), and
    every name that may act as the owner (they read requests but never decide them)."""

    username: str | None = None
    member_id: str | None = None
    owners: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()  # hub groups: their ``group:NAME`` seats are the reader's too


def _your_part(r: AccessRequest, reader: Reader | None, members: list[CommitteeMember], decisions: list[Decision],
               owners: frozenset[str]) -> dict:  # fmt: skip
    """Whether the reader is on this committee and may still decide (the panel shows the buttons)."""
    me = None
    if reader is not None and (reader.username or reader.member_id):
        seats = seats_of(reader.username, reader.groups)
        me = next((m for m in members if (reader.member_id and m.id == reader.member_id)
                   or (m.username and m.username in seats)), None)  # fmt: skip
    if me is None:
        return {"you_are_member": False, "your_decision": None, "you_may_decide": False}
    mine = next((d.decision for d in decisions if d.member_id == me.id), None)
    asked = (me.email and me.email == r.email) or (me.username and me.username == r.submitted_by) or \
        bool(reader.username and reader.username == r.submitted_by)  # fmt: skip
    acts_as_owner = not committee.counted(me, owners) or (reader.username is not None and reader.username in owners)
    may = r.status == PENDING and mine is None and not asked and not acts_as_owner
    return {"you_are_member": True, "your_decision": mine, "you_may_decide": may}


def views_of(session, rows: list[AccessRequest], now, reader: Reader | None = None) -> list[dict]:
    """The views of a page of requests in five queries, however many rows it has."""
    ids, ds_ids = [r.id for r in rows], {r.dataset_id for r in rows}
    if not rows:
        return []
    decisions: dict[str, list[Decision]] = {}
    for d in session.scalars(select(Decision).where(Decision.request_id.in_(ids)).order_by(Decision.decided_at)):
        decisions.setdefault(d.request_id, []).append(d)
    grants_of = {g.request_id: g for g in session.scalars(select(Grant).where(Grant.request_id.in_(ids)))}
    datasets = {d.id: d for d in session.scalars(select(Dataset).where(Dataset.id.in_(ds_ids)))}
    members: dict[str, list[CommitteeMember]] = {}
    for m in session.scalars(select(CommitteeMember).where(CommitteeMember.dataset_id.in_(ds_ids),
                                                           CommitteeMember.removed_at.is_(None))
                             .order_by(CommitteeMember.added_at, CommitteeMember.id)):  # fmt: skip
        members.setdefault(m.dataset_id, []).append(m)
    return [_view(r, datasets[r.dataset_id], decisions.get(r.id, []), grants_of.get(r.id),
                  members.get(r.dataset_id, []), now, reader) for r in rows]  # fmt: skip


def view(session, r: AccessRequest, now, reader: Reader | None = None) -> dict:
    return views_of(session, [r], now, reader)[0]


def _view(r: AccessRequest, ds: Dataset, decisions: list[Decision], grant: Grant | None,
          members: list[CommitteeMember], now, reader: Reader | None) -> dict:  # fmt: skip
    owners = frozenset({ds.owner}) | (reader.owners if reader is not None else frozenset())
    # Who counts towards the quorum: current members that cannot act as the owner.
    deciders = sorted((m.name for m in members if committee.counted(m, owners)), key=str.casefold)
    return {
        "id": r.id, "dataset_id": r.dataset_id, "dataset_title": ds.title, "status": r.status,
        "name": r.name, "email": r.email, "institution": r.institution, "orcid": r.orcid,
        "purpose": r.purpose, "intended_use": duo.describe(r.intended_use), "commercial": r.commercial,
        "conditions": duo.describe(ds.use_conditions or []), "flags": r.flags,
        "agreement_sha256": r.agreement_sha256, "requested_days": r.requested_days,
        # The hash of an empty text: the dataset asked for no agreement.
        "agreement_accepted": bool(r.agreement_sha256) and r.agreement_sha256 != agreement_hash(""),
        "submitted_at": r.submitted_at.isoformat(), "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "reason": r.reason, "required_approvals": ds.required_approvals, "rule": ds.decision_rule,
        "decisions": [{"member": d.member_id, "decision": d.decision, "reason": d.reason,
                       "decided_at": d.decided_at.isoformat()} for d in decisions],
        "grant": grants.view(grant, now) if grant else None,
        "deciders": deciders, **_your_part(r, reader, members, decisions, owners),
    }  # fmt: skip


def get(ctx, request_id: str, *, username: str | None = None, groups=()) -> dict:
    with reading(ctx.engine) as s:
        r = s.get(AccessRequest, request_id) if isinstance(request_id, str) else None
        if r is None:
            raise NotFound(f"no request '{request_id}'")
        return view(s, r, ctx.now(), Reader(username, None, committee.acting_owners(ctx.settings), frozenset(groups)))


def decide(ctx, request_id: str, member_id: str, decision, reason, *, client: str | None = None,
           decided_by: str | None = None) -> dict:  # fmt: skip
    """Record one member's decision, then close the request if the committee's rule says so.
    ``decided_by``: the Jupyter user who casts it (for a ``group:NAME`` seat, one of the group)."""
    if decision not in ("approve", "deny"):
        raise InvalidInput("decision", "must be approve or deny")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason", "must be text")
    bounds.text("reason", reason, bounds.REASON)
    reason = (reason or "").strip() or None
    if decision == "deny" and not reason:
        raise InvalidInput("reason", "a denial needs a written reason for the requester")
    now = ctx.now()
    with ctx.audit.transaction() as s:
        r = s.get(AccessRequest, request_id) if isinstance(request_id, str) else None
        member = s.get(CommitteeMember, member_id)
        if r is None or member is None or member.removed_at is not None or member.dataset_id != r.dataset_id:
            raise NotFound(f"no request '{request_id}' for you to decide")
        if r.status != PENDING:
            raise InvalidInput("decision", f"the request is already {r.status}")
        if (member.email and member.email == r.email) or (member.username and member.username == r.submitted_by) \
                or (decided_by and decided_by == r.submitted_by):  # fmt: skip
            raise AccessDenied("you submitted this request, so you cannot decide it")
        owners = committee.acting_owners(ctx.settings, s.get(Dataset, r.dataset_id).owner)
        if not committee.counted(member, owners):
            raise AccessDenied("you may act as the owner of this dataset, so you cannot decide its requests")
        if s.scalar(select(Decision).where(Decision.request_id == r.id, Decision.member_id == member.id)):
            raise InvalidInput("decision", "you have already decided this request")
        s.add(Decision(request_id=r.id, member_id=member.id, decision=decision, reason=reason, decided_at=now))
        s.flush()
        actor = member.username or f"member:{member.id}"
        if decided_by and decided_by != member.username:  # a group's seat: who of the group cast it
            actor = f"{decided_by} ({member.username})"
        ctx.audit.append(s, Event("decision.recorded", actor, dataset_id=r.dataset_id, client=client,
                                  details={"request": r.id, "member": member.id, "decision": decision,
                                           "counts": committee.counted(member, owners)}))  # fmt: skip
        _close_if_decided(ctx, s, r, now)
        out = view(s, r, now)
    if out["status"] != PENDING:
        notify.decision(ctx, request_id)
    return out


def _close_if_decided(ctx, s, r: AccessRequest, now) -> None:
    ds = s.get(Dataset, r.dataset_id)
    owners = committee.acting_owners(ctx.settings, ds.owner)
    eligible = [m for m in committee.active(s, ds.id) if committee.counted(m, owners)]
    # Votes of anyone who can act as the owner (recorded before they were refused) never count.
    aliases = set(s.scalars(select(CommitteeMember.id).where(CommitteeMember.dataset_id == ds.id,
                                                               CommitteeMember.username.in_(owners))))  # fmt: skip
    votes = {d.member_id: d for d in s.scalars(select(Decision).where(Decision.request_id == r.id))
             if d.member_id not in aliases}  # fmt: skip
    approvals = sum(1 for m in eligible if m.id in votes and votes[m.id].decision == "approve")
    denials = [d for d in votes.values() if d.decision == "deny"]
    undecided = sum(1 for m in eligible if m.id not in votes)
    if ds.decision_rule == "veto":
        denied = bool(denials)
        approved = not denied and approvals >= ds.required_approvals
    else:  # majority: approve with quorum and more yes than no; deny once quorum is out of reach
        approved = approvals >= ds.required_approvals and approvals > len(denials)
        denied = not approved and (approvals + undecided < ds.required_approvals or (undecided == 0))
    if approved:
        r.status, r.decided_at = APPROVED, now
        grants.issue(ctx, s, r, now)
    elif denied:
        r.status, r.decided_at = DENIED, now
        r.reason = "; ".join(d.reason for d in denials if d.reason) or "the committee did not approve the request"
        ctx.audit.append(s, Event("request.denied", "committee", dataset_id=r.dataset_id, details={"request": r.id}))


def erase_personal_data(ctx, request_id: str, actor: str) -> None:
    """Blank a requester's personal data (e.g. a GDPR erasure); the audit log stays verifiable."""
    with ctx.audit.transaction() as s:
        r = s.get(AccessRequest, request_id)
        if r is None:
            raise NotFound(f"no request '{request_id}'")
        r.name = r.email = r.institution = r.purpose = "[erased]"
        r.orcid, r.erased_at = None, ctx.now()
        ctx.audit.append(s, Event("request.erased", actor, dataset_id=r.dataset_id, details={"request": r.id}))


def transparency(ctx, dataset_id: str) -> dict:
    """Public numbers: how many requests came in, how they ended, how long decisions took."""
    with reading(ctx.engine) as s:
        rows = list(s.scalars(select(AccessRequest).where(AccessRequest.dataset_id == dataset_id)))
    days = [(r.decided_at - r.submitted_at) / timedelta(days=1) for r in rows if r.decided_at]
    return {
        "received": len(rows),
        "approved": sum(r.status == APPROVED for r in rows),
        "denied": sum(r.status == DENIED for r in rows),
        "pending": sum(r.status == PENDING for r in rows),
        "median_days_to_decision": round(median(days), 1) if days else None,
    }


def by_status_secret(ctx, secret: str, client: str) -> AccessRequest:
    """The request behind a status secret, or NotFound; every failure does the same work."""
    ctx.limiter.check_client(client)
    row = lookups.lookup(secret, secrets.STATUS, lambda digest: _find_by_status(ctx, digest))
    if row is None:
        ctx.limiter.failure(client)  # 429 once everyone together failed too often: never a valid link
        ctx.audit.record(Event("request.lookup_failed", "public", outcome="denied", client=client, reason="unknown secret"))
        raise NotFound("not found")
    return row


def _find_by_status(ctx, digest: str):
    with reading(ctx.engine) as s:
        row = s.scalar(select(AccessRequest).where(AccessRequest.status_secret_hash == digest))
    return (row, row.status_secret_hash) if row is not None else (None, None)


def status_view(ctx, r: AccessRequest) -> dict:
    """What the requester sees: where the request stands and, once approved, the grant."""
    now = ctx.now()
    with reading(ctx.engine) as s:
        ds = s.get(Dataset, r.dataset_id)
        grant = s.scalar(select(Grant).where(Grant.request_id == r.id))
        status = r.status
        if grant is not None and grants.state(grant, now) != "active":
            status = grants.state(grant, now)
        return {
            "request_id": r.id, "dataset_id": ds.id, "dataset_title": ds.title, "status": status,
            "submitted_at": r.submitted_at.isoformat(), "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "reason": r.reason if r.status == DENIED else None, "flags": r.flags,
            "grant": grants.view(grant, now) if grant else None,
        }  # fmt: skip
