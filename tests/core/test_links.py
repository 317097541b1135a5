from datetime import timedelta

import pytest

from jupyter_datashare.core import datasets, links, secrets
from jupyter_datashare.core.errors import InvalidInput, NotFound, RateLimited
from tests import rawdb


@pytest.fixture
def shared(core, server_root):
    (server_root / "f.txt").write_text("hello")
    return datasets.share(core, "ada-owner", {"path": "f.txt", "title": "T", "access": {"level": "reviewer-only"}})


def db_bytes(core) -> bytes:
    return rawdb.all_bytes(core)


def test_secret_has_prefix_256_bits_and_only_its_hash_is_kept(core, shared):
    row, secret = links.create(core, "ada-owner", shared, {"label": "R1"})
    assert secret.startswith("dsr_") and len(secret) == 4 + 43
    assert secret.encode() not in db_bytes(core)
    assert row.secret_hash == secrets.digest(secret)
    assert secret not in str(core.audit.events())


def test_expiry_is_always_set_and_bounded(core, shared):
    row, _ = links.create(core, "ada-owner", shared, {})
    assert row.expires_at - row.created_at == timedelta(days=30)
    for bad in (0, -1, 366, 1.5, "7", True):
        with pytest.raises(InvalidInput) as info:
            links.create(core, "ada-owner", shared, {"expires_in_days": bad})
        assert info.value.field == "expires_in_days"


def test_unknown_expired_and_revoked_fail_alike(core, shared, clock):
    row, secret = links.create(core, "ada-owner", shared, {"expires_in_days": 1})
    assert links.resolve(core, secret, "c")[0].id == row.id
    messages = []
    for attempt in ("dsr_" + "A" * 43, "garbage", secret[:-1] + ("A" if secret[-1] != "A" else "B")):
        with pytest.raises(NotFound) as info:
            links.resolve(core, attempt, "c")
        messages.append(info.value.message)
    clock.advance(days=1)
    with pytest.raises(NotFound) as info:
        links.resolve(core, secret, "c")
    messages.append(info.value.message)
    clock.advance(days=-1)
    links.revoke(core, "ada-owner", row.id)
    with pytest.raises(NotFound) as info:
        links.resolve(core, secret, "c")
    messages.append(info.value.message)
    assert len(set(messages)) == 1
    actions = [e["action"] for e in core.audit.events()]
    assert actions.count("link.lookup_failed") == 3 and actions.count("link.rejected") == 2


def test_failures_are_rate_limited_per_client(core, shared):
    core.limiter.per_client = 3
    for _ in range(3):
        with pytest.raises(NotFound):
            links.resolve(core, "dsr_nope", "10.9.9.9")
    with pytest.raises(RateLimited) as info:
        links.resolve(core, "dsr_nope", "10.9.9.9")
    assert info.value.retry_after > 0
    # Another address is not blocked by this one.
    with pytest.raises(NotFound):
        links.resolve(core, "dsr_nope", "10.8.8.8")


def test_restricted_needs_explicit_permission(core, server_root):
    (server_root / "r.txt").write_text("x")
    ds = datasets.share(core, "ada-owner", {"path": "r.txt", "title": "T", "access": {"level": "restricted"}, "committee": {"members": ["bob"]}})
    with pytest.raises(InvalidInput) as info:
        links.create(core, "ada-owner", ds, {})
    assert info.value.field == "allow_restricted"
    assert links.create(core, "ada-owner", ds, {"allow_restricted": True})[0].allow_restricted
