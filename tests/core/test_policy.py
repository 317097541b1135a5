from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from jupyter_datashare.core import policy
from jupyter_datashare.core.errors import InvalidInput

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
PUBLIC = policy.Principal("public", "public")
OWNER = policy.Principal("owner", "ada")


def dataset(level, until=None, after=None, withdrawn=None):
    return SimpleNamespace(access_level=level, embargo_until=until, after_embargo=after, withdrawn_at=withdrawn,
                           embargo_lift_recorded=False)  # fmt: skip


def link(allow_restricted=False):
    return policy.Principal("link", "link:lnk-1", SimpleNamespace(allow_restricted=allow_restricted))


@pytest.mark.parametrize(
    "level, public, via_link",
    [("open", True, True), ("embargoed", False, True), ("reviewer-only", False, True), ("restricted", False, False)],
)
def test_files_by_level(level, public, via_link):
    ds = dataset(level, NOW + timedelta(days=5) if level == "embargoed" else None, "open")
    assert policy.can_read_files(ds, PUBLIC, NOW).allowed is public
    assert policy.can_read_files(ds, link(), NOW).allowed is via_link
    assert policy.can_read_files(ds, OWNER, NOW).allowed


def test_restricted_only_for_links_the_owner_allowed():
    ds = dataset("restricted")
    assert policy.can_read_files(ds, link(allow_restricted=True), NOW).allowed


def test_embargo_lifts_by_itself_at_its_date():
    until = NOW + timedelta(days=1)
    ds = dataset("embargoed", until, "open")
    before = policy.can_read_files(ds, PUBLIC, until - timedelta(seconds=1))
    assert not before.allowed and "embargo" in before.reason and before.audited
    after = policy.can_read_files(ds, PUBLIC, until)
    assert after.allowed and after.level == "open" and not after.audited
    assert policy.embargo_just_lifted(ds, until)
    restricted_after = dataset("embargoed", until, "restricted")
    assert not policy.can_read_files(restricted_after, PUBLIC, until).allowed


def test_reviewer_only_metadata_is_hidden_from_the_public():
    ds = dataset("reviewer-only")
    assert not policy.can_see_metadata(ds, PUBLIC, NOW)
    assert policy.can_see_metadata(ds, link(), NOW)
    assert policy.can_see_metadata(dataset("restricted"), PUBLIC, NOW)


def test_withdrawn_closes_everything_but_the_owners_view():
    ds = dataset("open", withdrawn=NOW)
    assert not policy.can_read_files(ds, PUBLIC, NOW).allowed
    assert not policy.can_read_files(ds, link(), NOW).allowed
    assert not policy.can_see_metadata(ds, PUBLIC, NOW)


@pytest.mark.parametrize(
    "value, field",
    [
        ({"level": "secret"}, "access.level"),
        ("open", "access"),
        ({"level": "embargoed"}, "access.embargo_until"),
        ({"level": "embargoed", "embargo_until": "2020-01-01"}, "access.embargo_until"),
        ({"level": "embargoed", "embargo_until": "next year"}, "access.embargo_until"),
        ({"level": "embargoed", "embargo_until": "2027-01-01", "after_embargo": "embargoed"}, "access.after_embargo"),
        ({"level": "open", "embargo_until": "2027-01-01"}, "access.embargo_until"),
    ],
)
def test_bad_access_names_the_field(value, field):
    with pytest.raises(InvalidInput) as info:
        policy.validate_access(value, NOW)
    assert info.value.field == field


def test_embargo_date_parsing():
    a = policy.validate_access({"level": "embargoed", "embargo_until": "2027-01-31"}, NOW)
    assert a.embargo_until == datetime(2027, 1, 31, tzinfo=timezone.utc) and a.after_embargo == "open"
