import pytest

from jupyter_datashare.core import metadata
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
