"""The owner view carries every field PATCH accepts, so the panel's edit form starts from them."""

EDITABLE = {
    "title": "Soil temperature 2026",
    "description": "Two sites, hourly.",
    "keywords": ["soil", "temperature"],
    "creators": [{"name": "Ada Example", "orcid": "0000-0002-1825-0097", "affiliation": "Example University"}],
    "license": "CC0-1.0",
    "related_publication": "https://doi.org/10.1234/paper.1",
    "provenance": "Logged by two probes at 10 cm and 30 cm.",
    "rights_declaration": {"no_secrets": True, "no_unprotected_personal_data": True, "first_author": "Ada Example"},
    "preview_rows_public": True,
}


async def test_owner_view_shows_what_patch_accepts(call, share):
    d = await share(access={"level": "restricted"}, committee={"members": ["bob"]}, use_conditions=["HMB"],
                    agreement="No re-identification.")  # fmt: skip
    assert (d["use_conditions"], d["agreement"], d["provenance"], d["rights_declaration"]) == (
        ["HMB"], "No re-identification.", "", {})  # fmt: skip

    out = await call.json("PATCH", "datashare", "api", "datasets", d["id"], body=EDITABLE)
    assert out["provenance"] == EDITABLE["provenance"] and out["rights_declaration"] == EDITABLE["rights_declaration"]
    assert out["license"]["id"] == "CC0-1.0" and out["preview_rows_public"] is True

    # Sending back what the view shows changes nothing: no second "dataset.updated" event.
    again = {k: out[k] for k in ("title", "description", "keywords", "creators", "related_publication", "provenance",
                                 "rights_declaration", "use_conditions", "agreement", "preview_rows_public")}  # fmt: skip
    await call.json("PATCH", "datashare", "api", "datasets", d["id"], body={**again, "license": out["license"]["id"]})
    events = (await call.json("GET", "datashare", "api", "audit", params={"action": "dataset.updated"}))["events"]
    assert len(events) == 1 and "provenance" in events[0]["details"]["fields"]
