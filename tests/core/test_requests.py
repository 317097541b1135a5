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


def test_the_owners_approval_does_not_count(core, server_root):
    ds = share(core, server_root)
    r = submit(core, ds)
    out = requests.decide(core, r.id, member(core, ds, OWNER), "approve", None)
    assert out["status"] == "pending"
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
