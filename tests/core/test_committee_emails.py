"""The e-mail check of requesters and external committee members (committee.valid_email)."""

import pytest

from jupyter_datashare.core import committee
from jupyter_datashare.core.errors import InvalidInput


@pytest.mark.parametrize(
    "value",
    ["ab@c.d<script>", "a@b..c", "a@b", "@uni.example", "r@", "two words@uni.example", "a@@b.org",
     "r@-uni.example", "r@uni.example>", "x" * 300 + "@uni.example", "", "   ", None, 42],
)  # fmt: skip
def test_what_is_not_an_address_is_refused(value):
    with pytest.raises(InvalidInput) as info:
        committee.valid_email("email", value)
    assert info.value.field == "email" and len(info.value.message) < 300


def test_real_addresses_are_kept_lower_cased():
    assert committee.valid_email("email", "  Grace.Hopper@Example.ORG ") == "grace.hopper@example.org"
    assert committee.valid_email("email", "r+dac@uni.example") == "r+dac@uni.example"
    assert committee.valid_email("email", "rosalind@universität.example") == "rosalind@universität.example"


def test_a_committee_names_the_member_whose_address_is_bad():
    with pytest.raises(InvalidInput) as info:
        committee.parse({"members": ["bob", {"name": "Ext", "email": "ext@example.org<script>"}]})
    assert info.value.field == "committee.members[1].email"
