"""What a paper needs from a dataset: how to cite it (DataCite, BibTeX, plain text), a data
availability statement for its access level, and a data rights statement."""

from __future__ import annotations

import mimetypes
import re

from .clock import iso
from .metadata import LICENCES
from .models import Dataset, DatasetVersion, VersionFile
from .policy import EMBARGOED, OPEN, RESTRICTED, REVIEWER_ONLY, level_in_force

LICENCE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-NC-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "CC-BY-NC-ND-4.0": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
}
UNKNOWN = ":unav"  # DataCite's marker for a value that is not available


def _doi(url: str | None) -> str | None:
    if url and url.startswith("https://doi.org/"):
        return url.removeprefix("https://doi.org/")
    return None


def datacite(ds: Dataset, v: DatasetVersion, files: list[VersionFile], landing_url: str, publisher: str) -> dict:
    """DataCite metadata schema 4.5, JSON form."""
    creators = []
    for c in ds.creators or []:
        creator = {"name": c["name"], "nameType": "Personal"}
        if c.get("affiliation"):
            creator["affiliation"] = [{"name": c["affiliation"]}]
            if c.get("affiliation_ror"):
                creator["affiliation"][0] |= {"affiliationIdentifier": c["affiliation_ror"],
                                              "affiliationIdentifierScheme": "ROR", "schemeUri": "https://ror.org"}  # fmt: skip
        if c.get("orcid"):
            creator["nameIdentifiers"] = [{"nameIdentifier": f"https://orcid.org/{c['orcid']}",
                                           "nameIdentifierScheme": "ORCID", "schemeUri": "https://orcid.org"}]  # fmt: skip
        creators.append(creator)
    out = {
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"},
        "creators": creators or [{"name": UNKNOWN}],
        "titles": [{"title": ds.title}],
        "publisher": {"name": publisher},
        "publicationYear": str(v.created_at.year),
        "url": landing_url,
        "alternateIdentifiers": [{"alternateIdentifier": landing_url, "alternateIdentifierType": "URL"}],
        "version": str(v.number),
        "dates": [{"date": v.created_at.date().isoformat(), "dateType": "Created"}],
        "sizes": [f"{v.total_size} bytes", f"{v.file_count} files"],
        "formats": sorted({mimetypes.guess_type(f.path)[0] or "application/octet-stream" for f in files}),
        "rightsList": [_rights(ds)],
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    if ds.access_level == EMBARGOED and ds.embargo_until:
        out["dates"].append({"date": ds.embargo_until.date().isoformat(), "dateType": "Available"})
    if ds.description:
        out["descriptions"] = [{"description": ds.description, "descriptionType": "Abstract"}]
    if ds.provenance:
        out.setdefault("descriptions", []).append({"description": ds.provenance, "descriptionType": "Methods"})
    if ds.keywords:
        out["subjects"] = [{"subject": k} for k in ds.keywords]
    if ds.related_publication:
        doi = _doi(ds.related_publication)
        out["relatedIdentifiers"] = [{
            "relatedIdentifier": doi or ds.related_publication, "relatedIdentifierType": "DOI" if doi else "URL",
            "relationType": "IsSupplementTo"}]  # fmt: skip
    return out


def _rights(ds: Dataset) -> dict:
    known = LICENCES.get(ds.license_id)
    if not known:
        return {"rights": ds.license_text or ds.license_id}
    return {"rights": known["name"], "rightsUri": LICENCE_URLS[ds.license_id], "rightsIdentifier": ds.license_id,
            "rightsIdentifierScheme": "SPDX", "schemeUri": "https://spdx.org/licenses/"}  # fmt: skip


def _names(ds: Dataset) -> list[str]:
    return [c["name"] for c in ds.creators or []]


def _bib(text: str) -> str:
    return re.sub(r"([{}\\&%$#_])", r"\\\1", text)


def bibtex(ds: Dataset, v: DatasetVersion, landing_url: str, publisher: str) -> str:
    key = re.sub(r"\W+", "", (_names(ds) or ["dataset"])[0].split()[-1]).lower() + str(v.created_at.year)
    fields = {
        "author": " and ".join(_bib(n) for n in _names(ds)) or None,
        "title": "{" + _bib(ds.title) + "}",
        "year": str(v.created_at.year),
        "publisher": _bib(publisher),
        "version": str(v.number),
        "url": landing_url,
        "note": "Dataset",
    }
    body = ",\n".join(f"  {k} = {{{val}}}" for k, val in fields.items() if val)
    return f"@misc{{{key}_{ds.id[3:9]},\n{body}\n}}\n"


def text(ds: Dataset, v: DatasetVersion, landing_url: str, publisher: str) -> str:
    names = _names(ds)
    who = "; ".join(names) if names else "Anonymous"
    return f"{who} ({v.created_at.year}). {ds.title} (Version {v.number}) [Data set]. {publisher}. {landing_url}"


def availability_statement(ds: Dataset, landing_url: str, now) -> str:
    lic = LICENCES.get(ds.license_id, {}).get("name", ds.license_id)
    level = ds.access_level
    if level == OPEN or (level == EMBARGOED and level_in_force(ds, now) == OPEN):
        return f"The data are openly available at {landing_url} under {ds.license_id} ({lic})."
    if level == EMBARGOED:
        after = "openly available" if ds.after_embargo == OPEN else "available upon reasonable request to the data access committee"
        return (f"The data are under embargo until {ds.embargo_until.date().isoformat()}; from then on they will be "
                f"{after} at {landing_url} under {ds.license_id}.")  # fmt: skip
    if level == RESTRICTED:
        return (f"The data contain information that could compromise the privacy of research participants and are "
                f"therefore not publicly available. They are available upon reasonable request to the data access "
                f"committee at {landing_url}, under a data use agreement and {ds.license_id}.")  # fmt: skip
    if level == REVIEWER_ONLY:
        return ("The data are available to editors and peer reviewers through a private link provided to the journal; "
                "they will be made available upon publication.")  # fmt: skip
    return ""


def rights_statement(ds: Dataset, landing_url: str) -> str:
    d = ds.rights_declaration or {}
    lic = LICENCES.get(ds.license_id, {}).get("name", ds.license_id)
    parts = [f"Dataset: “{ds.title}” ({landing_url})."]
    if ds.related_publication:
        parts.append(f"It supports the publication {ds.related_publication}.")
    if ds.provenance:
        parts.append(f"How the data were produced: {ds.provenance}")
    parts.append(f"Licence: {ds.license_id} ({lic}).")
    if d.get("no_secrets"):
        parts.append("The authors declare that the data contain no state secrets and no commercial secrets.")
    if d.get("no_unprotected_personal_data"):
        parts.append("The authors declare that the data contain no personal data that is not protected "
                     "(anonymised, or shared only under access control with the participants' consent).")  # fmt: skip
    people = [(label, d.get(key)) for key, label in (("principal_investigator", "principal investigator"),
                                                       ("first_author", "first author"),
                                                       ("corresponding_author", "corresponding author"))]  # fmt: skip
    agreed = [f"{name} ({label})" for label, name in people if name]
    if agreed:
        parts.append("Agreed by: " + "; ".join(agreed) + ".")
    missing = [label for label, name in people if not name]
    if missing or not (d.get("no_secrets") and d.get("no_unprotected_personal_data")):
        parts.append("[Incomplete: add the missing declarations" + (f" and the {', '.join(missing)}" if missing else "") + ".]")
    return " ".join(parts)


def everything(ds: Dataset, v: DatasetVersion, files: list[VersionFile], landing_url: str, publisher: str, now) -> dict:
    return {
        "datacite": datacite(ds, v, files, landing_url, publisher),
        "bibtex": bibtex(ds, v, landing_url, publisher),
        "text": text(ds, v, landing_url, publisher),
        "availability_statement": availability_statement(ds, landing_url, now),
        "rights_statement": rights_statement(ds, landing_url),
        "generated_at": iso(now),
    }
