"""The request view says who decides and whether the reader may: the panel offers Approve / Deny
only to a current committee member who has not decided yet, did not ask, and does not act as the
owner (the owner may read every request of their datasets, but not decide them)."""

import json

import pytest

from tests.conftest import path_of
from tests.server.test_requests import AGREEMENT, BOB, CAROL, JSON, Browser, request_body, submit

LIMITS = {"failed_lookups_per_client": 1000, "failed_lookups_overall": 100_000}


async def share_restricted(share, members, required=1):
    return await share(access={"level": "restricted"}, use_conditions=["HMB"], agreement=AGREEMENT,
                       committee={"members": members, "required_approvals": required})  # fmt: skip


async def inbox(call, **kw):
    return {r["id"]: r for r in (await call.json("GET", "datashare", "api", "requests", **kw))["requests"]}


async def test_the_owner_reads_but_only_members_may_decide(call, share):
    d = await share_restricted(share, ["bob", "carol", {"name": "Dr Grace Steward", "email": "gs@example.org"}], 2)
    req = (await submit(call, d["id"]))["request_id"]

    owner = (await inbox(call))[req]
    assert owner["you_may_decide"] is False and owner["you_are_member"] is False
    assert owner["deciders"] == ["bob", "carol", "Dr Grace Steward"]
    single = await call.json("GET", "datashare", "api", "requests", req)
    assert single["you_may_decide"] is False and single["deciders"] == owner["deciders"]

    bob = (await inbox(call, headers=BOB))[req]
    assert bob["you_may_decide"] is True and bob["you_are_member"] is True and bob["your_decision"] is None
    assert (await call.json("GET", "datashare", "api", "requests", req, headers=BOB))["you_may_decide"] is True

    # Once bob has decided, he is no longer offered the decision; carol still is.
    await call.json("POST", "datashare", "api", "requests", req, "decision", headers=BOB, body={"decision": "approve"})
    bob = (await inbox(call, headers=BOB))[req]
    assert bob["you_may_decide"] is False and bob["your_decision"] == "approve" and bob["status"] == "pending"
    assert (await inbox(call, headers=CAROL))[req]["you_may_decide"] is True

    # The external member reads the same on their committee page.
    member = await call.json("GET", *path_of(d["committee_links"][0]["url"]), anon=True, headers=JSON)
    (ext,) = member["requests"]
    assert ext["you_may_decide"] is True and ext["you_are_member"] is True

    # A decided request offers the decision to nobody.
    await call.json("POST", "datashare", "api", "requests", req, "decision", headers=CAROL, body={"decision": "approve"})
    assert (await inbox(call, headers=CAROL))[req]["status"] == "approved"
    assert (await inbox(call, headers=CAROL))[req]["you_may_decide"] is False
    member = await call.json("GET", *path_of(d["committee_links"][0]["url"]), anon=True, headers=JSON)
    assert member["requests"][0]["you_may_decide"] is False


# carol may act as the owner too (e.g. the admin of a shared server).
@pytest.mark.parametrize("ds_config", [{**LIMITS, "owner_identities": ["ada-owner", "carol"]}])
async def test_an_owner_identity_on_the_committee_neither_decides_nor_counts(call, share):
    d = await share_restricted(share, ["ada-owner", "carol", "bob"])
    req = (await submit(call, d["id"]))["request_id"]
    for who in ({}, {"headers": CAROL}):
        view = (await inbox(call, **who))[req]
        assert view["you_are_member"] is True and view["you_may_decide"] is False
        assert view["deciders"] == ["bob"]
    assert (await inbox(call, headers=BOB))[req]["you_may_decide"] is True


async def test_a_member_is_not_offered_their_own_request(call, share):
    d = await share_restricted(share, ["bob", "carol"])
    # bob asks from the public form while logged in: the request records him as its submitter.
    browser = Browser(call)
    await browser.open("datashare", "d", d["id"])
    r = await browser.post("datashare", "d", d["id"], "request", body=request_body(), headers=BOB)
    assert r.code == 201, r.body
    mine = json.loads(r.body)["request_id"]
    assert (await inbox(call, headers=BOB))[mine]["you_may_decide"] is False
    assert (await inbox(call, headers=CAROL))[mine]["you_may_decide"] is True
