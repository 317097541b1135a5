"""GA4GH Data Use Ontology (DUO) codes: a dataset's conditions and a request's intended use.

A dataset carries at most one primary code (what research it may be used for) and any number
of modifiers (how). A request states its primary purpose and whether the use is commercial;
``conflicts`` lists what does not fit, so the committee sees it flagged (it still decides).
"""

from __future__ import annotations

import re

from . import bounds
from .errors import InvalidInput

PRIMARY = {
    "GRU": "General research use: any research purpose.",
    "HMB": "Health, medical or biomedical research only.",
    "DS": "Disease-specific research only (with the disease term, e.g. DS:MONDO:0005148).",
    "POA": "Population origins or ancestry research only.",
    "NRES": "No restriction on use.",
}
MODIFIERS = {
    "NPU": "Not-for-profit use only.",
    "NCU": "Non-commercial use only.",
    "IRB": "Ethics (IRB/REC) approval required.",
    "PUB": "Results must be published.",
    "COL": "Collaboration with the study team required.",
    "GSO": "Genetic studies only.",
    "NPOA": "No population origins or ancestry research.",
    "MOR": "Publication moratorium.",
    "RTN": "Derived data must be returned to the resource.",
}
_DS = re.compile(r"DS:([A-Za-z]+[:_]\d+)")


def _code(field: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a DUO code such as GRU, HMB, DS:MONDO:0005148 or NPU")
    bounds.text(field, value, bounds.IDENTIFIER)  # before it is echoed in an error
    code = value.strip().upper().replace("MONDO_", "MONDO:")
    if code == "DS":
        raise InvalidInput(field, "DS needs a disease term, e.g. DS:MONDO:0005148")
    if code.startswith("DS:"):
        if not _DS.fullmatch(code):
            raise InvalidInput(field, f"'{value}' is not DS with an ontology term such as DS:MONDO:0005148")
        return code
    if code not in PRIMARY and code not in MODIFIERS:
        raise InvalidInput(field, f"'{value}' is not a DUO code we know ({', '.join([*PRIMARY, *MODIFIERS])})")
    return code


def primary_of(code: str) -> str:
    return "DS" if code.startswith("DS:") else code


def validate_conditions(value, field: str = "use_conditions") -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise InvalidInput(field, "must be a list of DUO codes")
    bounds.items(field, value, bounds.USE_CONDITIONS)
    codes = [_code(f"{field}[{i}]", v) for i, v in enumerate(value)]
    primaries = [c for c in codes if primary_of(c) in PRIMARY]
    if len(primaries) > 1:
        raise InvalidInput(field, "may hold at most one primary code (GRU, HMB, DS:…, POA or NRES)")
    return list(dict.fromkeys(codes))


def validate_intended_use(value, field: str = "intended_use") -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(field, "must list at least one purpose code: GRU, HMB, DS:<disease> or POA")
    bounds.items(field, value, bounds.INTENDED_USE)
    codes = [_code(f"{field}[{i}]", v) for i, v in enumerate(value)]
    if not any(primary_of(c) in PRIMARY for c in codes):
        raise InvalidInput(field, "must include a purpose code: GRU, HMB, DS:<disease> or POA")
    return list(dict.fromkeys(codes))


def describe(codes: list[str]) -> list[dict]:
    return [{"code": c, "meaning": PRIMARY.get(primary_of(c)) or MODIFIERS.get(c, "")} for c in codes]


def conflicts(conditions: list[str], intended: list[str], commercial: bool) -> list[str]:
    """Why the intended use does not fit the dataset's conditions (empty: it fits)."""
    found = []
    purposes = {primary_of(c) for c in intended}
    diseases = {c for c in intended if c.startswith("DS:")}
    for cond in conditions:
        kind = primary_of(cond)
        if kind == "HMB" and not purposes & {"HMB", "DS"}:
            found.append("HMB: the dataset is for health, medical or biomedical research only")
        elif kind == "DS" and cond not in diseases:
            found.append(f"{cond}: the dataset is for research on that disease only")
        elif kind == "POA" and "POA" not in purposes:
            found.append("POA: the dataset is for population origins or ancestry research only")
        elif cond in ("NPU", "NCU") and commercial:
            found.append(f"{cond}: commercial use requested on a dataset for non-commercial use only")
        elif cond == "NPOA" and "POA" in purposes:
            found.append("NPOA: population origins or ancestry research is excluded")
    return found
