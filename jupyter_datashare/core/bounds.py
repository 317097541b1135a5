"""How long a text field and how many items a list of a request body may be, declared once.

Every field that can come from outside (a public form, a committee link, the owner's API) is
bounded before it is parsed, stored or echoed in an error: one anonymous body must never be able
to fill the database or make every later listing slow. A value over its bound is refused with a
400 naming the field; nothing is stored.
"""

from __future__ import annotations

from .errors import InvalidInput

# Characters.
NAME = 300  # a person, an institution, an affiliation
EMAIL = 320  # the longest address the standards allow (64 + 1 + 255)
IDENTIFIER = 100  # an ORCID iD, a ROR id, a licence id, a DUO code (with its disease term)
URL = 2_000  # a related publication's DOI or URL
TITLE = 500
PURPOSE = 5_000  # what a requester will do with the data
REASON = 5_000  # a committee member's reason, a revocation's reason
KEYWORD = 100
LONG_TEXT = 100_000  # a description, provenance, a licence's full text

# Items.
INTENDED_USE = 10  # a purpose and its modifiers: far more than any real request needs
USE_CONDITIONS = 20  # one primary code and the modifiers (there are nine)
KEYWORDS = 50
CREATORS = 1_000
COMMITTEE_MEMBERS = 100
BULK_REQUESTS = 1_000  # requests decided in one bulk decision


def text(field: str, value, limit: int):
    """``value`` unchanged, unless it is a string longer than ``limit`` characters or holding a
    NUL, which no text means and PostgreSQL cannot store (a 500 there, where SQLite kept it)."""
    if isinstance(value, str):
        if len(value) > limit:
            raise InvalidInput(field, f"is longer than {limit} characters")
        if "\x00" in value:
            raise InvalidInput(field, "contains a NUL character")
    return value


def items(field: str, value, limit: int):
    """``value`` unchanged, unless it is a list (or object) of more than ``limit`` items."""
    if isinstance(value, (list, tuple, dict)) and len(value) > limit:
        raise InvalidInput(field, f"may hold at most {limit} items; it has {len(value)}")
    return value
