import json

from datacite import schema45


async def test_public_and_owner_citations(call, share):
    d = await share(creators=[{"name": "Ada Example", "orcid": "0000-0002-1825-0097"}],
                    related_publication="10.1234/paper.1")  # fmt: skip
    page = (await call("GET", "datashare", "d", d["id"], anon=True)).body.decode()
    assert "Cite this dataset" in page and "Ada Example (2026). Field measurements (Version 1) [Data set]." in page
    out = json.loads((await call("GET", "datashare", "d", d["id"], "citation", anon=True)).body)
    assert schema45.validate(out["datacite"]) and out["datacite"]["url"].endswith(f"/datashare/d/{d['id']}")
    assert "openly available" in out["availability_statement"]
    bib = await call("GET", "datashare", "d", d["id"], "citation", anon=True, params={"format": "bibtex"})
    assert bib.headers["Content-Type"].startswith("application/x-bibtex") and b"@misc{" in bib.body
    bad = await call("GET", "datashare", "d", d["id"], "citation", anon=True, params={"format": "ris"})
    assert bad.code == 400
    hidden = await share(path="data/table.csv", title="Under review", access={"level": "reviewer-only"})
    assert (await call("GET", "datashare", "d", hidden["id"], "citation", anon=True)).code == 404
    mine = await call.json("GET", "datashare", "api", "datasets", hidden["id"], "citation")
    assert "peer reviewers" in mine["availability_statement"] and "Incomplete" in mine["rights_statement"]
