import pytest

from jupyter_datashare.core import datasets, request_pages, requests
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
    (mine,) = request_pages.visible_requests(core, username="bob", groups=("dac",))
    assert mine["id"] == r.id and mine["you_may_decide"]
    assert request_pages.visible_requests(core, username="erin") == []
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


# -- pages of requests --------------------------------------------------------------------------


def add_requests(core, dataset_id, n, *, start=0, status=requests.PENDING, same_time=False):
    """``n`` request rows straight into the database (many requests fast)."""
    from datetime import timedelta

    from jupyter_datashare.core.db import writing
    from jupyter_datashare.core.models import AccessRequest

    base = core.now()
    with writing(core.engine) as s:
        s.add_all(AccessRequest(id=f"req-{dataset_id[-6:]}-{i:05d}", dataset_id=dataset_id, status=status, name="R",
                                email=f"r{i}@uni.example", institution="U", purpose=PURPOSE, intended_use=["GRU"],
                                agreement_sha256="", requested_days=30, flags=[],
                                status_secret_hash=f"s{dataset_id}{i}", grant_secret_hash=f"g{dataset_id}{i}",
                                submitted_at=base if same_time else base + timedelta(seconds=i))
                  for i in range(start, start + n))  # fmt: skip
    return [f"req-{dataset_id[-6:]}-{i:05d}" for i in range(start, start + n)]


def all_pages(core, limit, between=None, **scope):
    from jupyter_datashare.core import paging

    seen, cursor, n = [], None, 0
    while True:
        items, cursor = request_pages.page_visible(core, paging.page(limit, cursor), **scope)
        assert len(items) <= limit
        seen += [r["id"] for r in items]
        n += 1
        if cursor is None:
            return seen
        if between:
            between(n)


def test_request_pages_cover_each_request_once_while_new_ones_arrive(core, server_root, clock):
    ds = share(core, server_root)
    old = add_requests(core, ds, 11, same_time=True)
    more = iter(range(100, 200))
    seen = all_pages(core, 4, between=lambda _n: add_requests(core, ds, 1, start=next(more), same_time=True),
                     username="bob")  # fmt: skip
    assert len(seen) == len(set(seen)) and set(old) <= set(seen)
    assert [i for i in seen if i in old] == sorted(old, reverse=True)


def test_request_pages_filter_by_status_and_dataset_and_stay_in_the_readers_scope(core, server_root):
    ds = share(core, server_root)
    (server_root / "e").mkdir()
    (server_root / "e" / "t.csv").write_text("a\n")
    other = datasets.share(core, "zed", {"path": "e", "title": "Z", "access": {"level": "restricted"},
                                         "committee": {"members": ["carol", "dave"]}})  # fmt: skip
    pending = add_requests(core, ds, 5)
    approved = add_requests(core, ds, 4, start=50, status=requests.APPROVED)
    theirs = add_requests(core, other, 6)
    assert sorted(all_pages(core, 2, owner=OWNER)) == sorted(pending + approved)  # never zed's
    assert sorted(all_pages(core, 2, username="bob", status="approved")) == approved
    assert sorted(all_pages(core, 3, username="carol", dataset_id=other)) == theirs
    assert all_pages(core, 3, username="bob", dataset_id=other) == []  # a dataset bob does not sit for
    assert all_pages(core, 3, username="nobody") == []


def test_a_page_of_requests_costs_the_same_queries_whatever_its_size(core, server_root):
    from sqlalchemy import event

    from jupyter_datashare.core import paging

    ds = share(core, server_root)
    add_requests(core, ds, 60)
    statements = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    request_pages.page_visible(core, paging.Page(2), username="bob")
    small = len(statements)
    statements.clear()
    items, _ = request_pages.page_visible(core, paging.Page(50), username="bob")
    assert len(items) == 50 and all(i["deciders"] and i["you_may_decide"] for i in items)
    assert len(statements) == small  # no query per request


def test_a_wide_scope_pages_every_request_once_newest_first(core, clock):
    """Past ``WIDE`` datasets the page walks the requests newest first instead: the same rows."""
    from datetime import timedelta

    from jupyter_datashare.core.db import writing
    from jupyter_datashare.core.models import CommitteeMember
    from tests.core.test_catalogue import add_rows

    many = add_rows(core, request_pages.WIDE + 10, level="restricted")
    with writing(core.engine) as s:
        s.add_all(CommitteeMember(id=f"cm-{i}", dataset_id=d, username="bob", name="Bob", added_at=core.now())
                  for i, d in enumerate(many))  # fmt: skip
    expected = []
    for i, d in enumerate(many):
        clock.advance(seconds=1)
        expected += add_requests(core, d, 2, start=i * 2)
    later = iter(range(1000, 2000))

    def arrive(_page):
        clock.advance(seconds=1)
        add_requests(core, many[0], 1, start=next(later))

    newest_first = sorted(expected, key=lambda r: (int(r.rsplit("-", 1)[1]) // 2, r), reverse=True)
    for scope in ({"username": "bob"}, {"owner": OWNER}):
        seen = all_pages(core, 7, between=arrive, **scope)
        assert len(seen) == len(set(seen))
        assert [r for r in seen if r in expected] == newest_first, scope
    assert sorted(all_pages(core, 9, username="bob", status="approved")) == []
    assert all_pages(core, 5, username="bob", dataset_id=many[3]) == sorted(expected[6:8], reverse=True)
