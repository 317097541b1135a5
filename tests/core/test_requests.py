import pytest

from jupyter_datashare.core import datasets, requests
from jupyter_datashare.core.errors import InvalidInput

OWNER = "ada-owner"
PURPOSE = "x" * requests.MIN_PURPOSE


def share(core, server_root, **committee):
    (server_root / "d").mkdir(exist_ok=True)
    (server_root / "d" / "t.csv").write_text("a\n")
    spec = {"members": ["bob", "carol", "dave", OWNER], **committee}
    return datasets.share(core, OWNER, {"path": "d", "title": "T", "access": {"level": "restricted"}, "committee": spec})


def submit(core, ds, email="r@uni.example"):
    body = {"name": "R", "email": email, "institution": "U", "purpose": PURPOSE, "intended_use": ["GRU"],
            "accept_agreement": True}  # fmt: skip
    return requests.submit(core, ds, body, client="c")[0]


def member(core, ds, username):
    from jupyter_datashare.core import committee
    from jupyter_datashare.core.db import reading

    with reading(core.engine) as s:
        return next(m.id for m in committee.active(s, ds) if m.username == username)


def test_majority_rule(core, server_root):
    ds = share(core, server_root, required_approvals=2, rule="majority")
    r = submit(core, ds)
    assert requests.decide(core, r.id, member(core, ds, "bob"), "deny", "no")["status"] == "pending"
    assert requests.decide(core, r.id, member(core, ds, "carol"), "approve", None)["status"] == "pending"
    assert requests.decide(core, r.id, member(core, ds, "dave"), "approve", None)["status"] == "approved"
    r2 = submit(core, ds)
    requests.decide(core, r2.id, member(core, ds, "bob"), "deny", "no")
    assert requests.decide(core, r2.id, member(core, ds, "carol"), "deny", "no")["status"] == "denied"


def test_the_owner_on_the_committee_cannot_decide(core, server_root):
    from jupyter_datashare.core.errors import AccessDenied

    ds = share(core, server_root)
    r = submit(core, ds)
    for decision, reason in (("approve", None), ("deny", "no")):
        with pytest.raises(AccessDenied):
            requests.decide(core, r.id, member(core, ds, OWNER), decision, reason)
    assert requests.get(core, r.id)["decisions"] == []
    assert requests.decide(core, r.id, member(core, ds, "bob"), "approve", None)["status"] == "approved"


def test_erasure_keeps_the_log_verifiable(core, server_root):
    ds = share(core, server_root)
    r = submit(core, ds, email="erase-me@uni.example")
    requests.erase_personal_data(core, r.id, OWNER)
    view = requests.get(core, r.id)
    assert view["email"] == "[erased]" and view["name"] == "[erased]"
    assert core.audit.verify().ok
    assert "erase-me" not in str(core.audit.events())


def test_a_non_restricted_dataset_takes_no_requests(core, server_root):
    (server_root / "o.txt").write_text("x")
    ds = datasets.share(core, OWNER, {"path": "o.txt", "title": "Open"})
    with pytest.raises(InvalidInput) as info:
        submit(core, ds)
    assert info.value.field == "dataset"


# -- bounds: nothing oversized is stored ------------------------------------------------------


def request_count(core):
    from sqlalchemy import func, select

    from jupyter_datashare.core.db import reading
    from jupyter_datashare.core.models import AccessRequest

    with reading(core.engine) as s:
        return s.scalar(select(func.count()).select_from(AccessRequest))


@pytest.mark.parametrize(
    "over, field",
    [
        ({"intended_use": ["HMB"] + ["DS:MONDO:0005148"] * 1_000_000}, "intended_use"),
        ({"purpose": "p" * 1_000_000}, "purpose"),
        ({"email": "r" * 1_000_000 + "@uni.example"}, "email"),
        ({"orcid": "0" * 1_000_000}, "orcid"),
        ({"name": "n" * 1_000}, "name"),
        ({"institution": "i" * 1_000}, "institution"),
        ({"y" * 1_000_000: "z"}, "y" * 100),
    ],
)  # fmt: skip
def test_oversized_request_fields_are_refused_and_nothing_is_stored(core, server_root, over, field):
    ds = share(core, server_root)
    body = {"name": "R", "email": "r@uni.example", "institution": "U", "purpose": PURPOSE, "intended_use": ["GRU"],
            "accept_agreement": True, **over}  # fmt: skip
    with pytest.raises(InvalidInput) as info:
        requests.submit(core, ds, body, client="c")
    assert info.value.field == field and len(info.value.message) < 500
    assert request_count(core) == 0
    assert "request.submitted" not in {e["action"] for e in core.audit.events()}


def test_an_oversized_reason_records_no_decision(core, server_root):
    from jupyter_datashare.core import bounds, grants

    ds = share(core, server_root)
    r = submit(core, ds)
    with pytest.raises(InvalidInput) as info:
        requests.decide(core, r.id, member(core, ds, "bob"), "deny", "r" * (bounds.REASON + 1))
    assert info.value.field == "reason"
    assert requests.get(core, r.id)["decisions"] == []
    approved = requests.decide(core, r.id, member(core, ds, "bob"), "approve", "r" * bounds.REASON)
    grant_id = approved["grant"]["id"]
    with pytest.raises(InvalidInput) as info:
        grants.revoke(core, grant_id, OWNER, "r" * 1_000_000)
    assert info.value.field == "reason"
    assert requests.get(core, r.id)["grant"]["state"] == "active"


def test_a_group_seat_is_held_by_every_member_of_the_group_and_cast_once(core, server_root):
    from jupyter_datashare.core.db import reading
    from jupyter_datashare.core.errors import AccessDenied

    ds = share(core, server_root, members=["group:dac", "carol"], required_approvals=2)
    r = submit(core, ds)
    seat = member(core, ds, "group:dac")
    # bob, in the dac group, sees the request and may decide; erin, in no group, sees nothing.
    (mine,) = requests.visible_requests(core, username="bob", groups=("dac",))
    assert mine["id"] == r.id and mine["you_may_decide"]
    assert requests.visible_requests(core, username="erin") == []
    with reading(core.engine) as s:
        assert [m.id for m in requests.members_for_identity(s, "bob", ("dac", "other"))] == [seat]
    view = requests.decide(core, r.id, seat, "approve", None, decided_by="bob")
    assert view["status"] == "pending"  # one seat, one vote: carol's is still needed
    with pytest.raises(InvalidInput, match="already"):
        requests.decide(core, r.id, seat, "approve", None, decided_by="dora")  # another of the group: the seat voted
    assert not requests.get(core, r.id, username="dora", groups=("dac",))["you_may_decide"]
    actors = [e["actor"] for e in core.audit.events() if e["action"] == "decision.recorded"]
    assert actors == ["bob (group:dac)"]  # who of the group cast it
    # A group member never decides a request they submitted themselves.
    r2 = requests.submit(core, ds, {"name": "B", "email": "b@uni.example", "institution": "U", "purpose": PURPOSE,
                                    "intended_use": ["GRU"], "accept_agreement": True}, client="c", identity="bob")[0]  # fmt: skip
    with pytest.raises(AccessDenied):
        requests.decide(core, r2.id, seat, "approve", None, decided_by="bob")
