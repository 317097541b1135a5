import re

import pytest
from datacite import schema45

from jupyter_datashare.core import citation, datasets

OWNER = "ada-owner"
URL = "https://data.example.org/datashare/d/"


@pytest.fixture
def ds(core, server_root):
    (server_root / "d").mkdir()
    (server_root / "d" / "t.csv").write_text("a\n1\n")
    (server_root / "d" / "n.txt").write_text("notes")

    def make(**body):
        ds_id = datasets.share(core, OWNER, {"path": "d", "title": "Soil {cores} & more", **body})
        d = datasets.load(core, ds_id)
        v, files = datasets.version_files(core, ds_id, 1)
        return d, v, files

    return make


def test_datacite_json_is_valid_4_5(ds, core):
    d, v, files = ds(
        creators=[{"name": "Ada Example", "orcid": "0000-0002-1825-0097", "affiliation": "Example U",
                   "affiliation_ror": "03yrm5c26"}, {"name": "Bo Li"}],
        keywords=["soil"], related_publication="10.1234/paper.1", description="Cores.", provenance="Sampled in 2025.",
        access={"level": "embargoed", "embargo_until": "2026-09-01"},
    )  # fmt: skip
    out = citation.datacite(d, v, files, URL + d.id, "Example University")
    errors = [e.message for e in schema45.validator.iter_errors(out)]
    assert errors == [] and schema45.validate(out)
    assert out["creators"][0]["nameIdentifiers"][0]["nameIdentifier"] == "https://orcid.org/0000-0002-1825-0097"
    assert {"date": "2026-09-01", "dateType": "Available"} in out["dates"]
    assert out["creators"][0]["affiliation"][0]["affiliationIdentifier"] == "https://ror.org/03yrm5c26"
    assert out["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    assert out["relatedIdentifiers"][0] == {"relatedIdentifier": "10.1234/paper.1", "relatedIdentifierType": "DOI",
                                            "relationType": "IsSupplementTo"}  # fmt: skip
    bare = citation.datacite(*ds(), URL + "x", "P")
    assert schema45.validate(bare) and bare["creators"] == [{"name": ":unav"}]


def test_bibtex_and_text(ds):
    d, v, _ = ds(creators=[{"name": "Ada Example"}, {"name": "Bo Li"}])
    bib = citation.bibtex(d, v, URL + d.id, "Example University")
    assert bib.startswith("@misc{example2026_") and "author = {Ada Example and Bo Li}" in bib
    assert r"title = {{Soil \{cores\} \& more}}" in bib
    unescaped = re.sub(r"\\[{}]", "", bib)
    assert unescaped.count("{") == unescaped.count("}")
    assert citation.text(d, v, URL + d.id, "Example University") == (
        f"Ada Example; Bo Li (2026). Soil {{cores}} & more (Version 1) [Data set]. Example University. {URL}{d.id}"
    )


@pytest.mark.parametrize(
    "access, committee, expected",
    [
        ({"level": "open"}, None, r"openly available at .+ under CC-BY-4.0"),
        ({"level": "embargoed", "embargo_until": "2026-09-01"}, None, r"under embargo until 2026-09-01; .+openly available"),
        ({"level": "restricted"}, {"members": ["bob"]}, r"upon reasonable request to the data access committee at"),
        ({"level": "reviewer-only"}, None, r"editors and peer reviewers"),
    ],
)
def test_availability_statements(ds, clock, access, committee, expected):
    extra = {"committee": committee} if committee else {}
    d, _, _ = ds(access=access, **extra)
    assert re.search(expected, citation.availability_statement(d, URL + d.id, clock.now()))


def test_rights_statement_says_what_is_missing(ds):
    d, _, _ = ds(related_publication="10.1234/x", provenance="Measured with probe P.",
                 rights_declaration={"no_secrets": True, "no_unprotected_personal_data": True,
                                     "principal_investigator": "Ada Example", "first_author": "Bo Li",
                                     "corresponding_author": "Ada Example"})  # fmt: skip
    full = citation.rights_statement(d, URL + d.id)
    assert "no state secrets" in full and "Bo Li (first author)" in full and "Incomplete" not in full
    partial, _, _ = ds(rights_declaration={"no_secrets": True})
    assert "Incomplete" in citation.rights_statement(partial, URL) and "first author" in citation.rights_statement(partial, URL)
