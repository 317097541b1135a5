import re

import pytest

from jupyter_datashare.core import bounds, metadata
from jupyter_datashare.core.errors import InvalidInput


def bad(body, field, **kw):
    with pytest.raises(InvalidInput) as info:
        metadata.validate(body, **kw)
    assert info.value.field == field, info.value
    return info.value


def test_defaults_and_normalisation():
    out = metadata.validate(
        {
            "title": "  Soil cores  ",
            "creators": [{"name": "Ada Example", "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": "Uni"}],
            "related_publication": "doi:10.1234/abc.5",
        }
    )
    assert out["title"] == "Soil cores"
    assert out["license_id"] == "CC-BY-4.0" and out["license_text"] is None
    assert out["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert out["related_publication"] == "https://doi.org/10.1234/abc.5"


def test_empty_title():
    bad({"title": "   "}, "title")
    bad({}, "title")


def test_licences():
    assert metadata.validate({"title": "t", "license": "CC0-1.0"})["license_id"] == "CC0-1.0"
    err = bad({"title": "t", "license": "WTFPL"}, "license")
    assert "license_text" in err.message
    custom = metadata.validate({"title": "t", "license": "LicenseRef-lab", "license_text": "Ask first."})
    assert custom["license_text"] == "Ask first."


def test_bad_creators_name_the_entry():
    bad({"title": "t", "creators": [{"name": "A"}, {"name": ""}]}, "creators[1].name")
    bad({"title": "t", "creators": [{"name": "A", "orcid": "0000-0002-1825-0098"}]}, "creators[0].orcid")
    bad({"title": "t", "creators": "Ada"}, "creators")
    bad({"title": "t", "creators": [{"name": "A", "email": "a@b"}]}, "creators[0].email")
    bad({"title": "t", "creators": [{"name": "A", "affiliation_ror": "not-a-ror"}]}, "creators[0].affiliation_ror")


def test_publication_must_be_doi_or_url():
    bad({"title": "t", "related_publication": "see my paper"}, "related_publication")
    bad({"title": "t", "related_publication": "javascript:alert(1)"}, "related_publication")


def test_partial_updates_only_touch_given_fields():
    assert metadata.validate({"description": "new"}, partial=True) == {"description": "new"}
    bad({"license_text": "x"}, "license", partial=True)


def test_licence_ids_come_from_the_spdx_list_in_canonical_case():
    assert metadata.validate({"title": "t", "license": "cc-by-4.0"})["license_id"] == "CC-BY-4.0"
    assert metadata.validate({"title": "t", "license": "cc0-1.0"})["license_id"] == "CC0-1.0"
    odbl = metadata.validate({"title": "t", "license": "odbl-1.0", "license_text": "Open Database Licence"})
    assert odbl["license_id"] == "ODbL-1.0" and odbl["license_text"] == "Open Database Licence"
    own = metadata.validate({"title": "t", "license": "licenseref-lab-terms.2", "license_text": "Ask first."})
    assert own["license_id"] == "LicenseRef-lab-terms.2"
    for made_up in ("MIT-ish", "CC-BY-5.0", "Apache-2.0 OR MIT", "389-exception", "LicenseRef-", "LicenseRef-my terms"):
        err = bad({"title": "t", "license": made_up, "license_text": "Some terms."}, "license")
        assert "SPDX" in err.message or "LicenseRef-" in err.message


def test_every_licence_the_panel_offers_is_accepted_as_it_is():
    from pathlib import Path

    vocab = (Path(__file__).parents[2] / "labextension" / "src" / "vocab.ts").read_text()
    block = vocab[vocab.index("export const LICENCES") :]
    offered = re.findall(r"id: '([^']+)'", block[: block.index("];")])
    # (The custom entry, id: CUSTOM_LICENCE, sends the id the user types: tested above.)
    assert offered and set(offered) <= set(metadata.LICENCES)
    for lic in [*offered, *metadata.LICENCES, metadata.DEFAULT_LICENCE]:
        assert metadata.validate({"title": "t", "license": lic})["license_id"] == lic


# Real ROR ids (each checked against its registry record), and each with its checksum changed.
REAL_ROR = ["02mhbdp94", "05dxps055", "04wxnsj81", "013meh722", "03yrm5c26", "052gg0110", "00f54p054",
            "04aj4c181", "0566bfb96", "002pd6e78", "021nxhr62", "02wg9xc72"]  # fmt: skip


@pytest.mark.parametrize("ror", REAL_ROR)
def test_a_ror_id_needs_its_checksum(ror):
    for form in (ror, f"https://ror.org/{ror}", f"ror.org/{ror.upper()}"):
        assert metadata.ror_id(form) == f"https://ror.org/{ror}"
    wrong = ror[:7] + f"{(int(ror[7:]) + 1) % 100:02d}"
    assert metadata.ror_id(wrong) is None
    bad({"title": "t", "creators": [{"name": "A", "affiliation_ror": wrong}]}, "creators[0].affiliation_ror")


def test_a_ror_id_is_crockford_base32():
    assert metadata.ror_id("0imhbdp94") is None  # I, L, O and U are not Crockford digits
    assert metadata.ror_id("12mhbdp94") is None  # every ROR id starts with 0
    assert metadata.ror_id("02mhbdp9") is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"creators": [{"name": f"A{i}"} for i in range(bounds.CREATORS + 1)]}, "creators"),
        ({"creators": [{"name": "A", "affiliation": "a" * (bounds.NAME + 1)}]}, "creators[0].affiliation"),
        ({"creators": [{"name": "A", "orcid": "0" * 1_000_000}]}, "creators[0].orcid"),
        ({"keywords": ["k"] * (bounds.KEYWORDS + 1)}, "keywords"),
        ({"keywords": ["ok", "k" * (bounds.KEYWORD + 1)]}, "keywords[1]"),
        ({"license": "L" * 1_000_000}, "license"),
        ({"license": "LicenseRef-x", "license_text": "t" * (bounds.LONG_TEXT + 1)}, "license_text"),
        ({"related_publication": "https://example.org/" + "p" * bounds.URL}, "related_publication"),
        ({"provenance": "p" * (bounds.LONG_TEXT + 1)}, "provenance"),
        ({"rights_declaration": {"first_author": "n" * (bounds.NAME + 1)}}, "rights_declaration.first_author"),
    ],
)  # fmt: skip
def test_every_field_is_bounded(body, field):
    err = bad({"title": "t", **body}, field)
    assert len(err.message) < 500  # the oversized value is not echoed


def test_the_bounds_themselves_are_allowed():
    out = metadata.validate({"title": "t" * bounds.TITLE, "keywords": ["k" * bounds.KEYWORD] * bounds.KEYWORDS,
                             "creators": [{"name": "n" * bounds.NAME}] * bounds.CREATORS})  # fmt: skip
    assert len(out["creators"]) == bounds.CREATORS and len(out["keywords"]) == bounds.KEYWORDS
