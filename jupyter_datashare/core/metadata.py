"""Descriptive metadata of a dataset: validation and the licences we offer."""

from __future__ import annotations

import functools
import re

from . import bounds
from .errors import InvalidInput

# SPDX id -> one line a researcher can choose by.
LICENCES: dict[str, dict[str, str]] = {
    "CC0-1.0": {
        "name": "Creative Commons Zero 1.0",
        "summary": "No rights reserved: anyone may reuse the data for any purpose without attribution.",
    },
    "CC-BY-4.0": {
        "name": "Creative Commons Attribution 4.0",
        "summary": "Anyone may reuse the data, commercially too, if they credit you.",
    },
    "CC-BY-NC-4.0": {
        "name": "Creative Commons Attribution-NonCommercial 4.0",
        "summary": "Reuse with credit, for non-commercial purposes only.",
    },
    "CC-BY-NC-ND-4.0": {
        "name": "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0",
        "summary": "Share unchanged copies with credit, non-commercially; no adapted versions.",
    },
}
DEFAULT_LICENCE = "CC-BY-4.0"

MAX_TITLE = bounds.TITLE
# SPDX: an own licence is "LicenseRef-" followed by letters, digits, "-" and ".".
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+", re.IGNORECASE)


@functools.cache
def _spdx_ids() -> dict[str, str]:
    """Every licence id of the SPDX list (as shipped offline by license-expression), by lower case."""
    from license_expression import get_license_index

    ids: dict[str, str] = {}
    for entry in get_license_index():
        if entry.get("is_exception"):  # "WITH" exceptions are not licences
            continue
        for key in [entry.get("spdx_license_key"), *entry.get("other_spdx_license_keys", [])]:
            # ScanCode's own LicenseRef-scancode-* keys are not on the SPDX list.
            if key and not key.startswith("LicenseRef-"):
                ids.setdefault(key.lower(), key)
    return ids


def licence_id(value: str, field: str = "license") -> str:
    """The SPDX id in its canonical case (``cc-by-4.0`` → ``CC-BY-4.0``), or an own ``LicenseRef-…``."""
    if value[: len("LicenseRef-")].lower() == "licenseref-":
        if not _LICENSE_REF.fullmatch(value):
            raise InvalidInput(field, "an own licence id is LicenseRef- followed by letters, digits, '-' or '.'")
        return "LicenseRef-" + value[len("LicenseRef-") :]
    known = _spdx_ids().get(value.lower())
    if known is None:
        raise InvalidInput(
            field,
            f"'{value}' is not an SPDX licence id (such as CC-BY-4.0 or ODbL-1.0); "
            "name an own licence LicenseRef-<name> and give its license_text",
        )
    return known


# ROR: "0", six Crockford base32 characters, and a two-digit ISO 7064 MOD 97-10 checksum.
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ROR = re.compile(r"(?:https?://)?(?:www\.)?(?:ror\.org/)?(0[0-9a-hjkmnp-tv-z]{6})([0-9]{2})", re.IGNORECASE)


def ror_id(value: str) -> str | None:
    """``https://ror.org/<id>`` if ``value`` is a ROR id whose checksum is right, else None."""
    m = _ROR.fullmatch(value.strip())
    if not m:
        return None
    body, check = m.group(1).lower(), m.group(2)
    number = 0
    for ch in body:
        number = number * 32 + _CROCKFORD.index(ch)
    if f"{98 - (number * 100) % 97:02d}" != check:
        return None
    return f"https://ror.org/{body}{check}"


def _text(body: dict, field: str, *, required: bool = False, max_len: int = bounds.LONG_TEXT) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    return bounds.text(field, value, max_len)


def _creators(value) -> list[dict]:
    import idutils  # slow to import (~0.4 s): only when metadata is validated

    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("creators", "must be a list of {name, orcid, affiliation}")
    bounds.items("creators", value, bounds.CREATORS)
    out = []
    for i, item in enumerate(value):
        field = f"creators[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise InvalidInput(field, "must be an object with a name")
        unknown = set(item) - {"name", "orcid", "affiliation", "affiliation_ror"}
        if unknown:
            raise InvalidInput(f"{field}.{sorted(unknown)[0]}", "is not a creator field")
        name = _text(item, "name", max_len=bounds.NAME) if isinstance(item.get("name"), str) else None
        if not name:
            raise InvalidInput(f"{field}.name", "must not be empty")
        creator = {"name": name}
        orcid = bounds.text(f"{field}.orcid", item.get("orcid"), bounds.IDENTIFIER)
        if orcid not in (None, ""):
            if not isinstance(orcid, str) or not idutils.is_orcid(orcid.strip()):
                raise InvalidInput(f"{field}.orcid", f"'{orcid}' is not a valid ORCID iD")
            creator["orcid"] = idutils.normalize_orcid(orcid.strip())
        ror = bounds.text(f"{field}.affiliation_ror", item.get("affiliation_ror"), bounds.IDENTIFIER)
        if ror not in (None, ""):
            if not isinstance(ror, str) or not ror_id(ror):
                raise InvalidInput(f"{field}.affiliation_ror", f"'{ror}' is not a ROR id such as https://ror.org/03yrm5c26")
            creator["affiliation_ror"] = ror_id(ror)
        affiliation = bounds.text(f"{field}.affiliation", item.get("affiliation"), bounds.NAME)
        if affiliation not in (None, ""):
            if not isinstance(affiliation, str):
                raise InvalidInput(f"{field}.affiliation", "must be a string")
            creator["affiliation"] = affiliation.strip()
        out.append(creator)
    return out


def _keywords(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise InvalidInput("keywords", "must be a list of strings")
    bounds.items("keywords", value, bounds.KEYWORDS)
    for i, k in enumerate(value):
        bounds.text(f"keywords[{i}]", k, bounds.KEYWORD)
    return [k.strip() for k in value if k.strip()]


def _licence(body: dict) -> tuple[str, str | None]:
    lic = body.get("license", DEFAULT_LICENCE)
    text = body.get("license_text")
    if not isinstance(lic, str) or not lic.strip():
        raise InvalidInput("license", "must be an SPDX id such as CC-BY-4.0")
    bounds.text("license", lic, bounds.IDENTIFIER)
    bounds.text("license_text", text, bounds.LONG_TEXT)
    lic = licence_id(lic.strip())
    if lic in LICENCES:
        return lic, None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            "license",
            f"unknown licence '{lic}': use one of {', '.join(LICENCES)}, or give license_text for a custom licence",
        )
    return lic, text.strip()


def _publication(value) -> str | None:
    import idutils

    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidInput("related_publication", "must be a DOI or a URL")
    value = bounds.text("related_publication", value, bounds.URL).strip()
    if idutils.is_doi(value):
        return "https://doi.org/" + idutils.normalize_doi(value)
    if value.startswith(("https://", "http://")) and idutils.is_url(value):
        return value
    raise InvalidInput("related_publication", f"'{value}' is neither a DOI nor an http(s) URL")


DECLARATION_PEOPLE = ("principal_investigator", "first_author", "corresponding_author")


def _declaration(value) -> dict:
    """The data rights declaration: what the authors assert about the data, and who agreed."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("rights_declaration", "must be an object")
    allowed = {"no_secrets", "no_unprotected_personal_data", *DECLARATION_PEOPLE}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInput(f"rights_declaration.{unknown[0]}", "is not part of the declaration")
    out = {}
    for flag in ("no_secrets", "no_unprotected_personal_data"):
        if flag in value:
            if not isinstance(value[flag], bool):
                raise InvalidInput(f"rights_declaration.{flag}", "must be true or false")
            out[flag] = value[flag]
    for person in DECLARATION_PEOPLE:
        if value.get(person) not in (None, ""):
            if not isinstance(value[person], str):
                raise InvalidInput(f"rights_declaration.{person}", "must be a name")
            bounds.text(f"rights_declaration.{person}", value[person], bounds.NAME)
            out[person] = value[person].strip()
    return out


FIELDS = ("title", "description", "creators", "keywords", "license", "license_text", "related_publication",
          "provenance", "rights_declaration")  # fmt: skip


def validate(body: dict, *, partial: bool = False) -> dict:
    """Return the cleaned metadata fields present in ``body`` (all of them unless ``partial``)."""
    out: dict = {}
    if not partial or "title" in body:
        out["title"] = _text(body, "title", required=True, max_len=MAX_TITLE)
    if not partial or "description" in body:
        out["description"] = _text(body, "description")
    if not partial or "creators" in body:
        out["creators"] = _creators(body.get("creators"))
    if not partial or "keywords" in body:
        out["keywords"] = _keywords(body.get("keywords"))
    if not partial or "license" in body or "license_text" in body:
        if partial and "license" not in body:
            raise InvalidInput("license", "give the licence id together with license_text")
        out["license_id"], out["license_text"] = _licence(body)
    if not partial or "related_publication" in body:
        out["related_publication"] = _publication(body.get("related_publication"))
    if not partial or "provenance" in body:
        out["provenance"] = _text(body, "provenance")
    if not partial or "rights_declaration" in body:
        out["rights_declaration"] = _declaration(body.get("rights_declaration"))
    return out
