"""Personal API tokens of the standalone service (core/api_tokens.py)."""

import pytest

from jupyter_datashare.core import api_tokens, secrets
from jupyter_datashare.core.errors import InvalidInput, NotFound, RateLimited

from .. import rawdb

ADMIN = "admin:root"


def test_a_token_speaks_for_its_user_and_only_its_hash_is_kept(core, clock):
    row, token = api_tokens.issue(core, ADMIN, "alice", label="laptop")
    clock.advance(seconds=1)
    assert secrets.well_formed(token, secrets.API) and row["state"] == "active" and row["username"] == "alice"
    assert api_tokens.authenticate(core, token, "192.0.2.1") == "alice"
    other = api_tokens.issue(core, ADMIN, "bob")[1]
    assert api_tokens.authenticate(core, other, "192.0.2.1") == "bob" != api_tokens.authenticate(core, token, "192.0.2.1")
    stored = rawdb.all_bytes(core)
    assert token.encode() not in stored and secrets.digest(token).encode() in stored
    listed = api_tokens.listing(core)
    assert [t["username"] for t in listed] == ["alice", "bob"] and "laptop" in [t["label"] for t in listed]
    assert all(token not in str(t) and secrets.digest(token) not in str(t) for t in listed)
    assert [t["username"] for t in api_tokens.listing(core, "bob")] == ["bob"]


def test_revoked_expired_unknown_and_malformed_tokens_open_nothing(core, clock):
    _, revoked = api_tokens.issue(core, ADMIN, "alice")
    clock.advance(seconds=1)
    row, expiring = api_tokens.issue(core, ADMIN, "alice", days=2)
    revoked_row = api_tokens.listing(core)[0]
    assert api_tokens.revoke(core, ADMIN, revoked_row["id"])["state"] == "revoked"
    assert api_tokens.authenticate(core, revoked, "192.0.2.1") is None
    assert api_tokens.authenticate(core, expiring, "192.0.2.1") == "alice"
    clock.advance(days=2)
    assert api_tokens.authenticate(core, expiring, "192.0.2.1") is None
    assert [t["state"] for t in api_tokens.listing(core)] == ["revoked", "expired"]
    for bad in ("dsa_" + "A" * 43, revoked[:-1], revoked.replace("dsa_", "dsr_"), "", None, 42, "x" * 5000):
        assert api_tokens.authenticate(core, bad, "192.0.2.1") is None
    with pytest.raises(NotFound):
        api_tokens.revoke(core, ADMIN, "tok-nope")


def test_failed_look_ups_count_against_the_caller(core):
    _, token = api_tokens.issue(core, ADMIN, "alice")
    core.limiter.per_client = 3
    for _ in range(3):
        assert api_tokens.authenticate(core, "dsa_" + "B" * 43, "198.51.100.7") is None
    with pytest.raises(RateLimited):
        api_tokens.authenticate(core, token, "198.51.100.7")  # even a good token, from that address
    assert api_tokens.authenticate(core, token, "198.51.100.8") == "alice"


def test_uses_move_last_used_at_most_once_a_minute(core, clock):
    _, token = api_tokens.issue(core, ADMIN, "alice")
    assert api_tokens.listing(core)[0]["last_used_at"] is None
    api_tokens.authenticate(core, token, "192.0.2.1")
    first = api_tokens.listing(core)[0]["last_used_at"]
    clock.advance(seconds=30)
    api_tokens.authenticate(core, token, "192.0.2.1")
    assert api_tokens.listing(core)[0]["last_used_at"] == first
    clock.advance(seconds=31)
    api_tokens.authenticate(core, token, "192.0.2.1")
    assert api_tokens.listing(core)[0]["last_used_at"] > first


def test_issuing_and_revoking_are_audited_without_the_secret(core):
    row, token = api_tokens.issue(core, ADMIN, "alice")
    api_tokens.revoke(core, ADMIN, row["id"])
    api_tokens.revoke(core, ADMIN, row["id"])  # again: nothing more happens
    events = [e for e in core.audit.events() if e["action"].startswith("token.")]
    assert [(e["action"], e["actor"], e["details"]) for e in events] == [
        ("token.issued", ADMIN, {"token": row["id"], "username": "alice"}),
        ("token.revoked", ADMIN, {"token": row["id"], "username": "alice"})]  # fmt: skip
    assert token not in str(core.audit.events()) and core.audit.verify().ok

@pytest.mark.parametrize("field, kwargs", [
    ("username", {"username": ""}), ("username", {"username": "al ice"}), ("username", {"username": "a\x00"}),
    ("username", {"username": "x" * 201}), ("username", {"username": None}), ("username", {"username": "../bob"}),
    ("username", {"username": "a/b"}), ("username", {"username": ".."}), ("username", {"username": ".hidden"}),
    ("label", {"label": 5}),
    ("label", {"label": "x" * 201}), ("days", {"days": 0}), ("days", {"days": 1.5}), ("days", {"days": True}),
    ("days", {"days": api_tokens.MAX_DAYS + 1}),
])  # fmt: skip
def test_bad_input_names_the_field_and_stores_nothing(core, field, kwargs):
    args = {"username": "alice", **kwargs}
    with pytest.raises(InvalidInput) as info:
        api_tokens.issue(core, ADMIN, args.pop("username"), **args)
    assert info.value.field == field
    assert api_tokens.listing(core) == [] and core.audit.events() == []
