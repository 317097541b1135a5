"""Unknown, expired, revoked and removed secrets take the same path: the same SQL, in the same order.

Timing is not measured (never in tests); what makes timings differ is different work, and the
statements sent to the database are that work.
"""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from jupyter_datashare.core import committee, datasets, grants, links, requests, secrets
from jupyter_datashare.core.db import reading
from jupyter_datashare.core.errors import NotFound

OWNER = "ada-owner"
UNKNOWN = {prefix: prefix + "A" * 43 for prefix in (secrets.REVIEW, secrets.GRANT, secrets.COMMITTEE)}


@pytest.fixture(autouse=True)
def no_timed_checkpoints(core):
    core.audit.checkpoint_seconds = 10**9  # a checkpoint falls due by wall-clock time, not by path


@contextmanager
def statements(core):
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(core.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(core.engine, "before_cursor_execute", listen)


def failing(core, resolve, secret) -> list[str]:
    with statements(core) as seen:
        with pytest.raises(NotFound):
            resolve(core, secret, "192.0.2.1")
    return seen


def test_review_links(core, server_root, clock):
    (server_root / "f.txt").write_text("hello")
    ds = datasets.share(core, OWNER, {"path": "f.txt", "title": "T", "access": {"level": "reviewer-only"}})
    revoked = links.create(core, OWNER, ds, {})
    links.revoke(core, OWNER, revoked[0].id)
    expiring = links.create(core, OWNER, ds, {"expires_in_days": 1})[1]
    links.resolve(core, expiring, "192.0.2.1")
    clock.advance(days=2)
    # The first failure also prunes old failed_attempts rows (a chore on a timer, whatever the secret).
    failing(core, links.resolve, UNKNOWN[secrets.REVIEW])
    unknown = failing(core, links.resolve, UNKNOWN[secrets.REVIEW])
    assert any("review_links" in s for s in unknown)
    assert failing(core, links.resolve, revoked[1]) == unknown
    assert failing(core, links.resolve, expiring) == unknown
    assert failing(core, links.resolve, "dsr_short") == unknown  # malformed: the same work too


def approved_request(core, ds, days):
    body = {"name": "R", "email": "r@uni.example", "institution": "U", "purpose": "x" * requests.MIN_PURPOSE,
            "intended_use": ["GRU"], "accept_agreement": True, "requested_days": days}  # fmt: skip
    row, status_secret = requests.submit(core, ds, body, client="192.0.2.50")
    with reading(core.engine) as s:
        bob = next(m.id for m in committee.active(s, ds) if m.username == "bob")
    assert requests.decide(core, row.id, bob, "approve", None)["status"] == "approved"
    return requests.get(core, row.id)["grant"]["id"], grants.derive_secret(status_secret)


def test_grants(core, server_root, clock):
    (server_root / "r.txt").write_text("x")
    ds = datasets.share(core, OWNER, {"path": "r.txt", "title": "T", "access": {"level": "restricted"},
                                      "committee": {"members": ["bob"]}})  # fmt: skip
    core.request_limiter.per_client = 100
    revoked_id, revoked = approved_request(core, ds, 30)
    grants.revoke(core, revoked_id, OWNER, "ended early")
    _, expiring = approved_request(core, ds, 1)
    clock.advance(days=2)
    with pytest.raises(NotFound):  # its first failure records that it expired (once per grant)
        grants.resolve(core, expiring, "192.0.2.1")
    unknown = failing(core, grants.resolve, UNKNOWN[secrets.GRANT])
    assert any("grants" in s for s in unknown)
    assert failing(core, grants.resolve, revoked) == unknown
    assert failing(core, grants.resolve, expiring) == unknown


def test_committee_links_of_removed_members(core, server_root):
    (server_root / "r.txt").write_text("x")
    created: list = []
    ext = {"name": "Ext", "email": "ext@uni.example"}
    ds = datasets.share(core, OWNER, {"path": "r.txt", "title": "T", "access": {"level": "restricted"},
                                      "committee": {"members": ["bob", ext]}}, committee_links=created)  # fmt: skip
    secret = created[0][1]
    datasets.update(core, OWNER, ds, {"committee": {"members": ["bob"]}})

    def find(secret):
        with statements(core) as seen, reading(core.engine) as s:
            assert committee.find_by_secret(s, secret) is None
        return seen

    assert find(secret) == find(UNKNOWN[secrets.COMMITTEE]) == find("dsc_short")
