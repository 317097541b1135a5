"""Every text field and list of a body is bounded: an oversized one is a 400 naming the field, and
nothing is stored. Also the syntax checks of e-mail addresses, licence ids and ROR ids."""

import json
import re

import pytest

from tests.conftest import path_of

JSON = {"Accept": "application/json"}
BOB = {"Authorization": "token bob-token"}
PURPOSE = ("We will estimate how sleep duration relates to reported stress in adults, as a replication "
           "of the published analysis, using the anonymised questionnaire answers only.")  # fmt: skip


class Visitor:
    """An anonymous browser: keeps the XSRF cookie of the page it opened and posts with it."""

    def __init__(self, call):
        self.call, self.xsrf = call, None

    async def open(self, *parts):
        r = await self.call("GET", *parts, anon=True)
        m = re.search(r"_xsrf=([^;]+)", r.headers.get("Set-Cookie", ""))
        self.xsrf = m.group(1) if m else self.xsrf
        return r

    async def post(self, *parts, body):
        headers = {"Cookie": f"_xsrf={self.xsrf}", "X-XSRFToken": self.xsrf,
                   "Content-Type": "application/json", **JSON}  # fmt: skip
        return await self.call("POST", *parts, anon=True, headers=headers, raw_body=json.dumps(body))


async def restricted(share):
    return await share(
        access={"level": "restricted"}, use_conditions=["HMB"], agreement="No re-identification.",
        committee={"members": ["bob", {"name": "Dr Ext", "email": "ext@example.org"}], "required_approvals": 1},
    )  # fmt: skip


def request_body(**over):
    body = {"name": "Rosalind Example", "email": "rosalind@uni.example", "institution": "Example University",
            "purpose": PURPOSE, "intended_use": ["HMB"], "accept_agreement": True, "requested_days": 90}  # fmt: skip
    return {**body, **over}


async def post_request(call, dataset_id, **over):
    visitor = Visitor(call)
    await visitor.open("datashare", "d", dataset_id)
    return await visitor.post("datashare", "d", dataset_id, "request", body=request_body(**over))


async def nothing_stored(call, dataset_id):
    assert (await call.json("GET", "datashare", "api", "requests"))["requests"] == []
    landing = json.loads((await call("GET", "datashare", "d", dataset_id, anon=True, headers=JSON)).body)
    assert landing["transparency"]["received"] == 0
    events = (await call.json("GET", "datashare", "api", "audit", params={"limit": "200"}))["events"]
    assert "request.submitted" not in {e["action"] for e in events}


def refused(r, field):
    assert r.code == 400, (r.code, r.body[:300])
    out = json.loads(r.body)
    assert out["field"] == field and out["error"] == "InvalidInput", out
    assert len(r.body) < 2_000  # the oversized value is never echoed back
    return out


@pytest.mark.parametrize(
    "over, field",
    [
        ({"intended_use": ["HMB"] + [f"DS:MONDO:{i:07d}" for i in range(10)]}, "intended_use"),  # 11 codes
        ({"intended_use": ["HMB", "DS:MONDO:" + "1" * 200]}, "intended_use[1]"),
        ({"purpose": "p" * 5_001}, "purpose"),
        ({"name": "n" * 301}, "name"),
        ({"institution": "i" * 301}, "institution"),
        ({"email": "a" * 300 + "@uni.example"}, "email"),
        ({"orcid": "0" * 10_000}, "orcid"),
        ({"x" * 10_000: 1}, "x" * 100),
        ({"name": "Rosalind\x00Example"}, "name"),
        ({"purpose": PURPOSE + "\x00"}, "purpose"),
    ],
)  # fmt: skip
async def test_an_oversized_request_field_is_named_and_nothing_is_stored(call, share, over, field):
    d = await restricted(share)
    refused(await post_request(call, d["id"], **over), field)
    await nothing_stored(call, d["id"])
    assert (await post_request(call, d["id"])).code == 201  # a normal request still goes through


@pytest.mark.parametrize(
    "over, field",
    [({"intended_use": ["HMB"] + ["DS:MONDO:0005148"] * 1_000_000}, "intended_use"),  # ~19 MB
     ({"purpose": "p" * 1_000_000}, "purpose")],
)  # fmt: skip
async def test_a_huge_anonymous_request_is_refused_and_the_list_stays_empty(call, share, over, field):
    d = await restricted(share)
    r = await post_request(call, d["id"], **over)
    # The per-field bound answers 400 naming the field; a cap on the size of the whole body (if set
    # lower than this body) may refuse it earlier with 413. Either way nothing may be stored.
    if r.code != 413:
        refused(r, field)
    await nothing_stored(call, d["id"])


@pytest.mark.parametrize("email", ["ab@c.d<script>", "a@b..c", "a@b", "two words@uni.example"])
async def test_a_bad_email_is_refused(call, share, email):
    d = await restricted(share)
    refused(await post_request(call, d["id"], email=email), "email")
    await nothing_stored(call, d["id"])


async def committee_page(call, d):
    link = path_of(d["committee_links"][0]["url"])
    visitor = Visitor(call)
    html = (await visitor.open(*link)).body.decode()
    return visitor, link, html


async def test_an_oversized_decision_reason_is_refused_and_no_decision_recorded(call, share):
    d = await restricted(share)
    assert (await post_request(call, d["id"])).code == 201
    visitor, link, html = await committee_page(call, d)
    req_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    for reason in ("r" * 5_001, "r" * 1_000_000):
        r = await visitor.post(*link, body={"request_id": req_id, "decision": "deny", "reason": reason})
        if r.code != 413:  # see above: a whole-body cap may come first
            refused(r, "reason")
    view = await call.json("GET", "datashare", "api", "requests", req_id)
    assert view["status"] == "pending" and view["decisions"] == []
    api = await call("POST", "datashare", "api", "requests", req_id, "decision", headers=BOB,
                     body={"decision": "deny", "reason": "r" * 5_001})  # fmt: skip
    refused(api, "reason")
    assert (await call.json("GET", "datashare", "api", "requests", req_id))["decisions"] == []


async def test_an_oversized_revocation_reason_is_refused_and_the_grant_stays(call, share):
    d = await restricted(share)
    assert (await post_request(call, d["id"])).code == 201
    visitor, link, html = await committee_page(call, d)
    req_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    r = await visitor.post(*link, body={"request_id": req_id, "decision": "approve"})
    assert r.code == 200, r.body[:300]
    grant = (await call.json("GET", "datashare", "api", "requests", req_id))["grant"]
    r = await visitor.post(*link, body={"grant_id": grant["id"], "reason": "r" * 5_001})
    refused(r, "reason")
    r = await call("DELETE", "datashare", "api", "grants", grant["id"], body={"reason": "r" * 5_001})
    refused(r, "reason")
    assert (await call.json("GET", "datashare", "api", "requests", req_id))["grant"]["state"] == "active"


# -- the owner's API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "over, field",
    [
        ({"creators": [{"name": f"Author {i}"} for i in range(10_000)]}, "creators"),
        ({"creators": [{"name": "A", "affiliation": "a" * 301}]}, "creators[0].affiliation"),
        ({"keywords": [f"k{i}" for i in range(51)]}, "keywords"),
        ({"keywords": ["soil", "k" * 101]}, "keywords[1]"),
        ({"title": "t" * 501}, "title"),
        ({"description": "d" * 100_001}, "description"),
        ({"license": "LicenseRef-" + "x" * 100, "license_text": "Ask first."}, "license"),
        ({"license": "LicenseRef-lab", "license_text": "t" * 100_001}, "license_text"),
        ({"related_publication": "https://example.org/" + "p" * 2_000}, "related_publication"),
        ({"use_conditions": ["NPU"] * 21, "access": {"level": "restricted"}}, "use_conditions"),
        ({"agreement": "a" * 100_001, "access": {"level": "restricted"}}, "agreement"),
        ({"access": {"level": "restricted"}, "committee": {"members": [f"user{i}" for i in range(101)]}},
         "committee.members"),
        ({"access": {"level": "restricted"}, "committee": {"members": ["u" * 301]}}, "committee.members[0].username"),
        ({"access": {"level": "restricted"},
          "committee": {"members": ["bob", {"name": "n" * 301, "email": "x@example.org"}]}}, "committee.members[1].name"),
        # Syntax, not size: the licence must be on the SPDX list, the ROR id's checksum must hold.
        ({"license": "MIT-ish", "license_text": "Do what you like."}, "license"),
        ({"creators": [{"name": "A", "affiliation_ror": "https://ror.org/02mhbdp95"}]}, "creators[0].affiliation_ror"),
        # A NUL means nothing in a text (PostgreSQL cannot even store it: it was a 500 there).
        ({"title": "Sleep\x00study"}, "title"),
        ({"keywords": ["sleep\x00"]}, "keywords[0]"),
    ],
)  # fmt: skip
async def test_an_oversized_or_bad_owner_field_is_named_and_nothing_is_shared(call, make_files, over, field):
    make_files({"data/t.csv": "a\n1\n"})
    body = {"path": "data", "title": "T", **over}
    if "access" in body:
        body.setdefault("committee", {"members": ["bob"]})
    r = await call("POST", "datashare", "api", "datasets", body=body)
    refused(r, field)
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []


async def test_licence_ids_are_normalised_and_real_ror_ids_kept(call, share):
    d = await share(license="cc-by-4.0", creators=[{"name": "Ada", "affiliation_ror": "02MHBDP94"}])
    assert d["license"]["id"] == "CC-BY-4.0" and d["license"]["name"].startswith("Creative Commons")
    assert d["creators"][0]["affiliation_ror"] == "https://ror.org/02mhbdp94"
    again = await call.json("PATCH", "datashare", "api", "datasets", d["id"],
                            body={"license": "licenseref-lab", "license_text": "Ask first."})  # fmt: skip
    assert again["license"]["id"] == "LicenseRef-lab"


async def test_a_bulk_decision_over_too_many_requests_is_refused_whole(call, share):
    d = await restricted(share)
    await post_request(call, d["id"])
    pending = (await call.json("GET", "datashare", "api", "requests"))["requests"]
    ids = [pending[0]["id"]] + [f"req-{i}" for i in range(1_000)]
    r = await call("POST", "datashare", "api", "requests", "decisions",
                   body={"requests": ids, "decision": "deny", "reason": "Too many at once."})  # fmt: skip
    refused(r, "requests")
    assert (await call.json("GET", "datashare", "api", "requests", pending[0]["id"]))["decisions"] == []


async def test_a_nul_in_a_link_label_is_refused_and_no_link_made(call, share):
    d = await share(access={"level": "reviewer-only"})
    r = await call("POST", "datashare", "api", "datasets", d["id"], "links", body={"label": "R\x001"})
    refused(r, "label")
    assert (await call.json("GET", "datashare", "api", "datasets", d["id"], "links"))["links"] == []
