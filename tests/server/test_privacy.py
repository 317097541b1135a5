"""The privacy check before data goes public, and before an anonymous review link is made."""

import json

from tests.conftest import link_for

PEOPLE = "name,email,score\nAda Example,ada@example.org,3\nBo Li,bo@example.org,4\n"


async def test_open_sharing_with_identifiers_needs_an_override_with_a_reason(call, share, make_files):
    make_files({"people/list.csv": PEOPLE})
    body = {"path": "people", "title": "People"}
    r = await call("POST", "datashare", "api", "datasets", body=body)
    err = json.loads(r.body)
    assert r.code == 400 and err["field"] == "privacy_override"
    assert {(f["column"], f["kind"]) for f in err["findings"]} >= {("email", "e-mail address"), ("name", "name")}
    assert "ada@example.org" not in r.body.decode()  # never the values
    r = await call("POST", "datashare", "api", "datasets", body={**body, "privacy_override": {"reason": " "}})
    assert r.code == 400 and json.loads(r.body)["field"] == "privacy_override.reason"
    assert (await call.json("GET", "datashare", "api", "datasets"))["datasets"] == []
    ok = await call.json("POST", "datashare", "api", "datasets", expect=201,
                         body={**body, "privacy_override": {"reason": "public committee members list"}})  # fmt: skip
    events = (await call.json("GET", "datashare", "api", "audit", params={"dataset": ok["id"]}))["events"]
    overridden = next(e for e in events if e["action"] == "privacy.overridden")
    assert overridden["reason"] == "public committee members list" and overridden["details"]["findings"]


async def test_opening_up_later_is_checked_too(call, share):
    d = await share(files={"data/list.csv": PEOPLE}, access={"level": "reviewer-only"})
    r = await call("PATCH", "datashare", "api", "datasets", d["id"], body={"access": {"level": "open"}})
    assert r.code == 400 and json.loads(r.body)["field"] == "privacy_override"
    r = await call("PATCH", "datashare", "api", "datasets", d["id"],
                   body={"access": {"level": "embargoed", "embargo_until": "2026-06-01"}})  # fmt: skip
    assert r.code == 400  # the embargo would open it by itself
    ok = await call.json("PATCH", "datashare", "api", "datasets", d["id"],
                         body={"access": {"level": "open"}, "privacy_override": {"reason": "consented"}})  # fmt: skip
    assert ok["access"]["level"] == "open"


async def test_anonymous_links_report_what_would_give_the_authors_away(call, share):
    notebook = json.dumps({"cells": [{"outputs": [{"text": "/home/ada-owner/project/run.log"}]}],
                           "metadata": {"authors": [{"name": "Ada Lovelace"}]}})  # fmt: skip
    d = await share(files={"data/analysis.ipynb": notebook, "data/table.csv": "a\n1\n"},
                    access={"level": "reviewer-only"}, creators=[{"name": "Ada Lovelace"}])  # fmt: skip
    link = await link_for(call, d["id"], anonymous=True)
    kinds = {f["kind"] for f in link["anonymity_findings"]}
    assert "home folder path" in kinds and "your identity (name, user name or e-mail)" in kinds
    plain = await link_for(call, d["id"])
    assert "anonymity_findings" not in plain
