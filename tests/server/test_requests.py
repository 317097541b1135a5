"""Restricted data end to end: request → decisions → quorum → grant → download → revoke → 404."""

import hashlib
import json
import re
from email import message_from_string
from email.policy import default as email_policy

import pytest

from tests.conftest import path_of
from tests.inbox import inbox  # noqa: F401 (a fixture)
from tests.server.html_forms import forms_of

JSON = {"Accept": "application/json"}
BOB = {"Authorization": "token bob-token"}
CAROL = {"Authorization": "token carol-token"}
AGREEMENT = "I will not re-identify participants and will delete the data when my access ends."
PURPOSE = ("We will estimate how sleep duration relates to reported stress in adults, as a replication "
           "of the published analysis, using the anonymised questionnaire answers only.")  # fmt: skip


async def share_restricted(share, **over):
    return await share(
        **over,
        access={"level": "restricted"},
        use_conditions=["HMB", "NCU"],
        agreement=AGREEMENT,
        committee={"members": ["bob", "carol", {"name": "Dr Ext", "email": "ext@example.org"}], "required_approvals": 2},
    )


class Browser:
    """An anonymous visitor with a cookie jar for the XSRF cookie."""

    def __init__(self, call):
        self.call, self.xsrf = call, None

    async def open(self, *parts):
        r = await self.call("GET", *parts, anon=True)
        cookie = r.headers.get("Set-Cookie", "")
        m = re.search(r"_xsrf=([^;]+)", cookie)
        if m:
            self.xsrf = m.group(1)
        return r

    async def post(self, *parts, body=None, form=None, xsrf=True, headers=None):
        hdrs = dict(headers or {})
        if xsrf and self.xsrf:
            hdrs["Cookie"] = f"_xsrf={self.xsrf}"
            hdrs.setdefault("X-XSRFToken", self.xsrf)
        if form is not None:
            from urllib.parse import urlencode

            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            return await self.call("POST", *parts, anon=True, headers=hdrs, raw_body=urlencode(form, doseq=True))
        hdrs.setdefault("Content-Type", "application/json")
        hdrs.setdefault("Accept", "application/json")
        return await self.call("POST", *parts, anon=True, headers=hdrs, body=body)


def request_body(**over):
    body = {"name": "Rosalind Example", "email": "rosalind@uni.example", "institution": "Example University",
            "orcid": "0000-0002-1825-0097", "purpose": PURPOSE, "intended_use": ["HMB"],
            "accept_agreement": True, "requested_days": 90}  # fmt: skip
    body.update(over)
    return body


async def submit(call, dataset_id, **over):
    browser = Browser(call)
    page = await browser.open("datashare", "d", dataset_id)
    assert page.code == 200
    r = await browser.post("datashare", "d", dataset_id, "request", body=request_body(**over))
    assert r.code == 201, r.body
    return json.loads(r.body)


async def test_the_whole_path(call, share, clock):
    restricted = await share_restricted(share)
    d = restricted
    assert [m["name"] for m in d["committee_links"]] == ["Dr Ext"]  # external members' links, shown once
    landing = json.loads((await call("GET", "datashare", "d", d["id"], anon=True, headers=JSON)).body)
    assert landing["agreement"] == AGREEMENT and [c["code"] for c in landing["use_conditions"]] == ["HMB", "NCU"]
    assert landing["transparency"]["received"] == 0 and not landing["can_download"]

    sub = await submit(call, d["id"])
    assert sub["status"] == "pending" and sub["flags"] == []
    status = path_of(sub["status_url"])
    assert json.loads((await call("GET", *status, anon=True, headers=JSON)).body)["status"] == "pending"

    inbox = await call.json("GET", "datashare", "api", "requests", headers=BOB, params={"status": "pending"})
    (req,) = inbox["requests"]
    assert req["name"] == "Rosalind Example" and req["purpose"] == PURPOSE
    one = await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=BOB,
                          body={"decision": "approve"})  # fmt: skip
    assert one["status"] == "pending"  # 2 approvals needed
    again = await call("POST", "datashare", "api", "requests", req["id"], "decision", headers=BOB, body={"decision": "approve"})
    assert again.code == 400 and "already decided" in json.loads(again.body)["message"]
    # The owner is not on the committee and cannot decide.
    owner = await call("POST", "datashare", "api", "requests", req["id"], "decision", body={"decision": "approve"})
    assert owner.code == 404
    two = await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=CAROL,
                          body={"decision": "approve"})  # fmt: skip
    assert two["status"] == "approved" and two["grant"]["state"] == "active"

    approved = json.loads((await call("GET", *status, anon=True, headers=JSON)).body)
    assert approved["status"] == "approved" and approved["grant"]["expires_at"].startswith("2026-05-30")
    table = next(f for f in approved["files"] if f["path"] == "table.csv")
    grant_parts = path_of("http://x" + table["url"])
    r = await call("GET", *grant_parts, anon=True, headers={"Range": "bytes=0-1"})
    assert r.code == 206 and r.body == b"id"
    events = (await call.json("GET", "datashare", "api", "audit", params={"dataset": d["id"], "limit": "100"}))["events"]
    used = next(e for e in events if e["action"] == "grant.used")
    assert used["byte_range"] == "0-1" and used["grant_id"] == two["grant"]["id"]
    actions = {e["action"] for e in events}
    assert {"committee.changed", "request.submitted", "decision.recorded", "grant.issued", "grant.used"} <= actions

    closed = await call("POST", "datashare", "api", "requests", req["id"], "decision", headers=CAROL,
                        body={"decision": "deny", "reason": "late"})  # fmt: skip
    assert closed.code == 400

    bad = await call("DELETE", "datashare", "api", "grants", two["grant"]["id"], body={})
    assert bad.code == 400 and json.loads(bad.body)["field"] == "reason"
    await call.json("DELETE", "datashare", "api", "grants", two["grant"]["id"], body={"reason": "agreement breached"})
    gone = await call("GET", *grant_parts, anon=True)
    unknown = await call("GET", "datashare", "g", "dsg_" + "A" * 43, "files", "table.csv", anon=True)
    assert gone.code == unknown.code == 404 and gone.body == unknown.body
    revoked = json.loads((await call("GET", *status, anon=True, headers=JSON)).body)
    assert revoked["status"] == "revoked" and revoked["grant"]["revoke_reason"] == "agreement breached"

    # No personal data of the requester in the hashed audit log.
    export = (await call("GET", "datashare", "api", "audit", params={"format": "jsonl"})).body.decode()
    for personal in ("Rosalind", "rosalind@uni.example", "Example University", PURPOSE[:30]):
        assert personal not in export
    summary = json.loads((await call("GET", "datashare", "d", d["id"], anon=True, headers=JSON)).body)["transparency"]
    assert summary == {"received": 1, "approved": 1, "denied": 0, "pending": 0, "median_days_to_decision": 0.0}


async def test_grants_expire_and_can_be_renewed(call, share, clock):
    restricted = await share_restricted(share)
    sub = await submit(call, restricted["id"], requested_days=1)
    (req,) = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"]
    for who in (BOB, CAROL):
        await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=who, body={"decision": "approve"})
    status = path_of(sub["status_url"])
    view = json.loads((await call("GET", *status, anon=True, headers=JSON)).body)
    file_parts = path_of("http://x" + view["files"][0]["url"])
    assert (await call("GET", *file_parts, anon=True)).code == 200
    browser = Browser(call)
    await browser.open(*status)
    r = await browser.post(*status, "renewal", form={})
    assert r.code == 200 and "renewal" in r.body.decode()
    clock.advance(days=2)
    assert (await call("GET", *file_parts, anon=True)).code == 404
    assert json.loads((await call("GET", *status, anon=True, headers=JSON)).body)["status"] == "expired"
    actions = [e["action"] for e in (await call.json("GET", "datashare", "api", "audit", params={"limit": "200"}))["events"]]
    assert actions.count("grant.expired") == 1 and "grant.renewal_requested" in actions


async def test_a_denial_needs_a_reason_and_vetoes(call, share):
    restricted = await share_restricted(share)
    sub = await submit(call, restricted["id"], commercial=True)
    assert sub["flags"] and "NCU" in sub["flags"][0]
    (req,) = (await call.json("GET", "datashare", "api", "requests", headers=CAROL))["requests"]
    assert req["flags"] == sub["flags"]
    r = await call("POST", "datashare", "api", "requests", req["id"], "decision", headers=CAROL, body={"decision": "deny"})
    assert r.code == 400 and json.loads(r.body)["field"] == "reason"
    out = await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=CAROL,
                          body={"decision": "deny", "reason": "commercial use is excluded"})  # fmt: skip
    assert out["status"] == "denied"
    status = json.loads((await call("GET", *path_of(sub["status_url"]), anon=True, headers=JSON)).body)
    assert status["status"] == "denied" and status["reason"] == "commercial use is excluded"


async def test_external_member_decides_on_their_page(call, share):
    restricted = await share_restricted(share)
    await submit(call, restricted["id"])
    link = path_of(restricted["committee_links"][0]["url"])
    browser = Browser(call)
    page = await browser.open(*link)
    html = page.body.decode()
    assert page.code == 200 and "Rosalind Example" in html and page.headers["Referrer-Policy"] == "no-referrer"
    # What a decision needs, as in the service's inbox: the conditions and the agreement accepted.
    assert "<dt>Conditions</dt><dd>HMB (" in html and ", NCU (" in html
    assert f"<dt>Agreement</dt><dd>accepted (SHA-256 <code>{hashlib.sha256(AGREEMENT.encode()).hexdigest()}</code>)" in html
    req_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    no_reason = await browser.post(*link, form={"request_id": req_id, "decision": "deny"})
    assert no_reason.code == 400
    forged = await browser.post(*link, form={"request_id": req_id, "decision": "approve"}, xsrf=False)
    assert forged.code == 403
    ok = await browser.post(*link, form={"request_id": req_id, "decision": "approve"},
                            headers={"Origin": "null"})  # fmt: skip
    # Sent back to the page (303), so a reload shows the result instead of deciding again.
    assert ok.code == 303 and ok.headers["Location"] == f"?decided={req_id}"
    again = await call("GET", *link, anon=True, params={"decided": req_id})
    assert again.code == 200 and f"Your decision on {req_id} was recorded; the request is pending" in again.body.decode()
    assert "was recorded" not in (await call("GET", *link, anon=True, params={"decided": "req-x"})).body.decode()
    view = await call.json("GET", "datashare", "api", "requests", req_id, headers=BOB)
    assert [x["decision"] for x in view["decisions"]] == ["approve"]
    assert (await call("GET", "datashare", "c", "dsc_" + "B" * 43, anon=True)).code == 404


async def test_a_member_never_decides_their_own_request(call, share):
    restricted = await share_restricted(share)
    await submit(call, restricted["id"], email="ext@example.org")
    link = path_of(restricted["committee_links"][0]["url"])
    browser = Browser(call)
    html = (await browser.open(*link)).body.decode()
    req_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    r = await browser.post(*link, form={"request_id": req_id, "decision": "approve"})
    assert r.code == 403


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"purpose": "for science"}, "purpose"),
        ({"orcid": "0000-0002-1825-0098"}, "orcid"),
        ({"accept_agreement": False}, "accept_agreement"),
        ({"intended_use": ["XYZ"]}, "intended_use[0]"),
        ({"intended_use": []}, "intended_use"),
        ({"requested_days": 5000}, "requested_days"),
        ({"requested_days": 0}, "requested_days"),
        ({"shoe_size": 44}, "shoe_size"),
    ],
)
async def test_bad_requests_name_the_field_and_store_nothing(call, share, over, field):
    restricted = await share_restricted(share)
    browser = Browser(call)
    await browser.open("datashare", "d", restricted["id"])
    r = await browser.post("datashare", "d", restricted["id"], "request", body=request_body(**over))
    assert r.code == 400 and json.loads(r.body)["field"] == field
    assert (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"] == []


async def test_forged_posts_are_refused(call, share):
    restricted = await share_restricted(share)
    browser = Browser(call)
    await browser.open("datashare", "d", restricted["id"])
    for kwargs in ({"xsrf": False}, {"headers": {"X-XSRFToken": "2|00|00|00"}}):
        r = await browser.post("datashare", "d", restricted["id"], "request", body=request_body(), **kwargs)
        assert r.code == 403
    evil = await browser.post("datashare", "d", restricted["id"], "request", body=request_body(),
                              headers={"Origin": "https://evil.example"})  # fmt: skip
    assert evil.code in (403, 404)
    assert (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"] == []


@pytest.mark.parametrize("ds_config", [{"requests_per_client": 2, "failed_lookups_per_client": 1000}])
async def test_a_flood_of_requests_is_refused(call, share, ds_config):
    restricted = await share_restricted(share)
    for _ in range(2):
        await submit(call, restricted["id"])
    browser = Browser(call)
    await browser.open("datashare", "d", restricted["id"])
    r = await browser.post("datashare", "d", restricted["id"], "request", body=request_body())
    assert r.code == 429 and "Retry-After" in r.headers


async def test_the_html_form_works_without_javascript(call, share):
    restricted = await share_restricted(share)
    browser = Browser(call)
    page = (await browser.open("datashare", "d", restricted["id"])).body.decode()
    assert 'name="_xsrf"' in page and 'action="/a%40b/datashare/d/' in page
    form = request_body(intended_use=["HMB"], accept_agreement="on", requested_days="30")
    form.pop("orcid")
    r = await browser.post("datashare", "d", restricted["id"], "request", form=form, headers={"Origin": "null"})
    assert r.code == 201 and "/datashare/s/dss_" in r.body.decode()


@pytest.mark.parametrize(
    "committee, field",
    [
        ({"members": []}, "committee.members"),
        ({"members": ["ada-owner"]}, "committee.members"),  # the owner alone is never enough
        ({"members": ["bob"], "required_approvals": 2}, "committee.members"),
        ({"members": [{"name": "X", "email": "nope"}]}, "committee.members[0].email"),
        ({"members": ["bob"], "rule": "dictator"}, "committee.rule"),
    ],
)
async def test_restricted_needs_a_real_committee(call, make_files, committee, field):
    make_files({"data/a.csv": "x\n"})
    body = {"path": "data", "title": "t", "access": {"level": "restricted"}, "committee": committee}
    r = await call("POST", "datashare", "api", "datasets", body=body)
    assert r.code == 400 and json.loads(r.body)["field"] == field
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []


async def test_switching_to_restricted_needs_the_committee_too(call, share):
    d = await share()
    r = await call("PATCH", "datashare", "api", "datasets", d["id"], body={"access": {"level": "restricted"}})
    assert r.code == 400 and json.loads(r.body)["field"] == "committee.members"
    ok = await call.json("PATCH", "datashare", "api", "datasets", d["id"],
                         body={"access": {"level": "restricted"}, "committee": {"members": ["bob"]}})  # fmt: skip
    assert ok["access"]["level"] == "restricted"


async def test_other_identities_cannot_act_as_owner(call, share):
    await share()
    r = await call("GET", "datashare", "api", "datasets", headers=BOB)
    assert r.code == 403


@pytest.mark.parametrize("method, route, params", [
    ("GET", ("audit",), {}), ("GET", ("audit",), {"format": "csv"}), ("GET", ("audit",), {"format": "jsonl"}),
    ("GET", ("audit", "verify"), {}), ("GET", ("audit", "checkpoint"), {}), ("POST", ("audit", "checkpoint"), {}),
])  # fmt: skip
async def test_committee_members_cannot_read_the_audit_log(call, share, method, route, params):
    # bob decides requests on this server, but who read which dataset is the owner's to see.
    await share()
    body = {} if method == "POST" else None
    r = await call(method, "datashare", "api", *route, headers=BOB, params=params, body=body)
    assert r.code == 403 and b"dataset.shared" not in r.body
    assert (await call(method, "datashare", "api", *route, params=params, body=body)).code == 200


async def test_bulk_decisions_record_one_decision_per_request(call, share):
    restricted = await share_restricted(share)
    for email in ("a@uni.example", "b@uni.example"):
        await submit(call, restricted["id"], email=email)
    ids = [r["id"] for r in (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"]]
    out = await call.json("POST", "datashare", "api", "requests", "decisions", headers=BOB,
                          body={"requests": ids + ["req-unknown"], "decision": "approve"})  # fmt: skip
    assert [x.get("status") for x in out["results"]] == ["pending", "pending", None]
    assert "error" in out["results"][2]
    events = (await call.json("GET", "datashare", "api", "audit", params={"action": "decision.recorded"}))["events"]
    assert sorted(e["details"]["request"] for e in events) == sorted(ids)
    bad = await call("POST", "datashare", "api", "requests", "decisions", headers=BOB,
                     body={"requests": ids, "decision": "deny"})  # fmt: skip
    assert bad.code == 400 and json.loads(bad.body)["field"] == "reason"


async def test_external_member_revokes_and_owner_erases(call, share):
    restricted = await share_restricted(share)
    await submit(call, restricted["id"])
    (req,) = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"]
    for who in (BOB, CAROL):
        await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=who, body={"decision": "approve"})
    link = path_of(restricted["committee_links"][0]["url"])
    browser = Browser(call)
    html = (await browser.open(*link)).body.decode()
    grant_id = re.search(r'name="grant_id" value="([^"]+)"', html).group(1)
    r = await browser.post(*link, form={"grant_id": grant_id, "reason": "data breach reported"})
    assert r.code == 303 and r.headers["Location"] == f"?revoked={grant_id}"
    assert "was revoked" in (await call("GET", *link, anon=True, params={"revoked": grant_id})).body.decode()
    view = await call.json("GET", "datashare", "api", "requests", req["id"], headers=CAROL)
    assert view["grant"]["state"] == "revoked" and view["grant"]["revoke_reason"] == "data breach reported"
    assert (await call("DELETE", "datashare", "api", "requests", req["id"], "personal-data", headers=BOB)).code == 403
    erased = await call.json("DELETE", "datashare", "api", "requests", req["id"], "personal-data")
    assert erased["email"] == "[erased]"
    assert (await call.json("GET", "datashare", "api", "audit", "verify"))["ok"]


# -- the request form exactly as a browser fills and sends it --------------------------------

TYPED = {"name": "Rosalind Example", "email": "rosalind@uni.example", "institution": "Example University",
         "purpose": PURPOSE}  # fmt: skip


async def send_the_form(call, dataset_id, fill=None, tick=(("intended_use", "HMB"), "accept_agreement")):
    """Open the landing page, type into its request form, tick boxes, press Send."""
    browser = Browser(call)
    page = await browser.open("datashare", "d", dataset_id)
    (form,) = [f for f in forms_of(page.body.decode()) if "intended_use" in f.names()]
    assert form.method == "post" and form.action.endswith(f"/datashare/d/{dataset_id}/request")
    pairs = form.submit({**TYPED, **(fill or {})}, tick=tick)
    from urllib.parse import urlencode

    # What Chromium sends: the XSRF cookie and hidden field, Origin null (no-referrer pages).
    headers = {"Cookie": f"_xsrf={browser.xsrf}", "Origin": "null", "Content-Type": "application/x-www-form-urlencoded"}
    r = await call("POST", "datashare", "d", dataset_id, "request", anon=True, headers=headers, raw_body=urlencode(pairs))
    return r, pairs


async def uses_of_the_request(call):
    (req,) = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"]
    return [c["code"] for c in req["intended_use"]]


async def test_the_request_form_as_a_browser_sends_it(call, share):
    restricted = await share_restricted(share)
    r, pairs = await send_the_form(call, restricted["id"])
    # Every box goes out, the empty optional ones too (ORCID, the disease term).
    assert ("orcid", "") in pairs and ("ds_term", "") in pairs and ("requested_days", "365") in pairs
    assert r.code == 201, r.body
    html = r.body.decode()
    assert re.search(r'href="http://[^"]+/datashare/s/dss_[^"]+"', html)
    assert await uses_of_the_request(call) == ["HMB"]


async def test_the_disease_box_adds_a_ds_code(call, share):
    restricted = await share_restricted(share)
    r, _ = await send_the_form(call, restricted["id"], fill={"ds_term": " mondo:0005148 "}, tick=("accept_agreement",))
    assert r.code == 201, r.body
    assert await uses_of_the_request(call) == ["DS:MONDO:0005148"]


@pytest.mark.parametrize("term", ["diabetes", "DS:", "MONDO:" + "1" * 200])
async def test_a_bad_disease_term_names_its_box(call, share, term):
    restricted = await share_restricted(share)
    r, _ = await send_the_form(call, restricted["id"], fill={"ds_term": term})
    assert r.code == 400 and "ds_term" in r.body.decode()
    assert (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"] == []


async def test_the_json_api_takes_a_ds_term_too(call, share):
    restricted = await share_restricted(share)
    await submit(call, restricted["id"], intended_use=["HMB"], ds_term="MONDO:0005148")
    assert await uses_of_the_request(call) == ["HMB", "DS:MONDO:0005148"]


@pytest.mark.parametrize("as_json", [True, False])
async def test_the_status_link_reply_is_never_cached_or_indexed(call, share, as_json):
    restricted = await share_restricted(share)
    if as_json:
        browser = Browser(call)
        await browser.open("datashare", "d", restricted["id"])
        r = await browser.post("datashare", "d", restricted["id"], "request", body=request_body())
        assert "dss_" in json.loads(r.body)["status_url"]
    else:
        r, _ = await send_the_form(call, restricted["id"])
        assert '<meta name="robots" content="noindex' in r.body.decode()
    assert r.code == 201
    assert r.headers["Cache-Control"] == "no-store"
    assert "noindex" in r.headers["X-Robots-Tag"]


@pytest.fixture
def mail_on(ds_config, inbox):  # noqa: F811
    ds_config.update(smtp_host="127.0.0.1", smtp_port=inbox.port)  # before the server starts
    return inbox


@pytest.mark.parametrize("title", ["Sleep\nand stress", "Sleep\u2028and stress", "Sleep\r\nBcc: eve@evil.example"])
async def test_a_title_with_a_line_break_still_shows_the_status_link(mail_on, call, share, title):
    restricted = await share_restricted(share, title=title)
    r, _ = await send_the_form(call, restricted["id"])
    assert r.code == 201 and "/datashare/s/dss_" in r.body.decode()
    (mail,) = [message_from_string(m, policy=email_policy) for m in mail_on.to("ext@example.org")]
    assert mail["Subject"].startswith("[datashare] New access request for Sleep") and "\n" not in mail["Subject"]
    assert mail_on.messages[0][0] == ["ext@example.org"]
