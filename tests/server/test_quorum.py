"""No identity that may act as the owner counts towards a quorum or decides a request.

Here bob is one of the names in ``owner_identities`` (say the owner's second account, or a
colleague who manages the server): he can do everything the owner can, so he is the owner.
"""

import json

import pytest

from tests.conftest import path_of, server_config
from tests.server.test_requests import BOB, CAROL, JSON, submit

CONFIG_OWNERS = ["ada-owner", "bob"]


@pytest.fixture
def jp_server_config(clock, ds_config):
    return server_config(clock, {"owner_identities": CONFIG_OWNERS, **ds_config})


@pytest.mark.parametrize(
    "members, required",
    [
        (["bob"], 1),  # another name of the owner is the whole committee
        (["ada-owner", "bob"], 1),
        (["bob", "carol"], 2),  # carol alone cannot reach two approvals
    ],
)
async def test_a_committee_that_needs_the_owner_is_refused(call, make_files, members, required):
    make_files({"data/a.csv": "x\n"})
    body = {"path": "data", "title": "t", "access": {"level": "restricted"},
            "committee": {"members": members, "required_approvals": required}}  # fmt: skip
    r = await call("POST", "datashare", "api", "datasets", body=body)
    assert r.code == 400, r.body
    err = json.loads(r.body)
    assert err["field"] == "committee.members" and "bob" in err["message"]
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []


async def test_an_owner_identity_on_the_committee_neither_counts_nor_decides(call, share):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob", "carol"]})
    members = await call.json("GET", "datashare", "api", "datasets", d["id"], "committee", headers=BOB)
    assert {m["username"]: m["counts_towards_quorum"] for m in members["members"]} == {"bob": False, "carol": True}
    sub = await submit(call, d["id"])
    req = (await call.json("GET", "datashare", "api", "requests", headers=CAROL))["requests"][0]
    for decision in ({"decision": "approve"}, {"decision": "deny", "reason": "no"}):
        r = await call("POST", "datashare", "api", "requests", req["id"], "decision", headers=BOB, body=decision)
        assert r.code == 403, r.body
    await call("POST", "datashare", "api", "requests", "decisions", headers=BOB,
               body={"requests": [req["id"]], "decision": "approve"})  # the bulk route is no way round  # fmt: skip
    assert (await call.json("GET", "datashare", "api", "requests", req["id"], headers=BOB))["decisions"] == []
    status = json.loads((await call("GET", *path_of(sub["status_url"]), anon=True, headers=JSON)).body)
    assert status["status"] == "pending"
    out = await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=CAROL,
                          body={"decision": "approve"})  # fmt: skip
    assert out["status"] == "approved"


async def test_editing_the_committee_down_to_the_owner_is_refused(call, share):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob", "carol"]})
    for committee in ({"members": ["bob"]}, {"members": ["bob", "carol"], "required_approvals": 2}):
        r = await call("PATCH", "datashare", "api", "datasets", d["id"], body={"committee": committee})
        assert r.code == 400 and json.loads(r.body)["field"] == "committee.members", r.body
    members = await call.json("GET", "datashare", "api", "datasets", d["id"], "committee")
    assert sorted(m["username"] for m in members["members"]) == ["bob", "carol"]
    opened = await share(path="data2", files={"data2/b.csv": "y\n"})
    r = await call("PATCH", "datashare", "api", "datasets", opened["id"],
                   body={"access": {"level": "restricted"}, "committee": {"members": ["ada-owner", "bob"]}})  # fmt: skip
    assert r.code == 400 and json.loads(r.body)["field"] == "committee.members"



@pytest.mark.parametrize("ds_config", [{"owner_identities": []}])
async def test_on_a_single_user_server_every_jupyter_login_is_the_owner(call, share, make_files, ds_config):
    """Without owner_identities whoever the server authenticates acts as the owner (bob and carol
    here, like anyone with the server's token): no Jupyter member counts or decides, only external ones."""
    make_files({"data/a.csv": "x\n"})
    body = {"path": "data", "title": "t", "access": {"level": "restricted"},
            "committee": {"members": ["bob", "carol"]}}  # fmt: skip
    r = await call("POST", "datashare", "api", "datasets", body=body)
    assert r.code == 400 and json.loads(r.body)["field"] == "committee.members"
    assert "owner_identities" in json.loads(r.body)["message"]
    d = await share(access={"level": "restricted"},
                    committee={"members": ["bob", {"name": "Dr Ext", "email": "ext@example.org"}]})  # fmt: skip
    members = await call.json("GET", "datashare", "api", "datasets", d["id"], "committee")
    assert {m["name"]: m["counts_towards_quorum"] for m in members["members"]} == {"bob": False, "Dr Ext": True}
    await submit(call, d["id"])
    req = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"][0]
    assert req["you_may_decide"] is False
    r = await call("POST", "datashare", "api", "requests", req["id"], "decision", headers=BOB, body={"decision": "approve"})
    assert r.code == 403, r.body
    assert (await call.json("GET", "datashare", "api", "requests", req["id"]))["decisions"] == []
