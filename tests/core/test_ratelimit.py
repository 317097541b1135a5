"""Limits on failures, kept in the database: per client (an IPv4 address, an IPv6 /64) and over
all clients, one budget for every process on the database."""

import pytest
from sqlalchemy import func, select

from jupyter_datashare.core import datasets, links
from jupyter_datashare.core.errors import NotFound, RateLimited
from jupyter_datashare.core.models import FailedAttempt
from jupyter_datashare.core.ratelimit import FailureLimiter, Repeats, client_key
from jupyter_datashare.core.service import DataShare


def limiter(core, clock, **limits) -> FailureLimiter:
    return FailureLimiter(core.counts_engine, clock, "test", **limits)


def rows(core, scope=None) -> int:
    query = select(func.count()).select_from(FailedAttempt)
    if scope:
        query = query.where(FailedAttempt.scope == scope)
    with core.engine.connect() as conn:
        return conn.execute(query).scalar()


@pytest.fixture
def second(core, clock):
    """Another process's core on the same database and store (its own engine and pools)."""
    other = DataShare(core.settings, clock)
    yield other
    other.close()


def test_overall_limit_and_window(core, clock):
    lim = limiter(core, clock, per_client=100, client_window=60, overall=5, overall_window=60)
    for i in range(5):
        lim.check(f"10.0.0.{i}")
        lim.failed(f"10.0.0.{i}")
    with pytest.raises(RateLimited) as info:
        lim.check("10.0.0.99")
    assert 1 <= info.value.retry_after <= 60
    clock.advance(seconds=61)
    lim.check("10.0.0.99")


def test_the_table_keeps_only_what_a_window_can_see_and_successes_write_nothing(core, clock):
    lim = limiter(core, clock, per_client=3, client_window=60, overall=10**9, overall_window=120)
    for i in range(500):
        lim.failed(f"2001:db8:{i:x}::1")
    assert rows(core, "test") == 500
    for i in range(50):  # checks that pass (a valid secret's path) add nothing
        lim.check_client(f"192.0.2.{i}")
        lim.check(f"192.0.2.{i}")
    assert rows(core, "test") == 500
    clock.advance(seconds=121)  # past both windows: the next failure prunes them all
    lim.failed("192.0.2.1")
    assert rows(core, "test") == 1
    clock.advance(seconds=30)  # pruning is occasional, not a delete per failure
    lim.failed("192.0.2.2")
    assert rows(core, "test") == 2


@pytest.mark.parametrize(
    "address, client",
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client seen through a dual-stack socket
        ("fe80::1%eth0", "fe80::/64"),
        ("", "unknown"),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(address, client):
    assert client_key(address) == client


def test_strangers_filling_the_overall_limit_never_block_a_valid_secret(core, clock):
    lim = limiter(core, clock, per_client=3, client_window=60, overall=5, overall_window=600)
    for i in range(5):
        lim.check_client(f"10.0.0.{i}")
        lim.failure(f"10.0.0.{i}")
    # Everyone's budget is spent: a further failure is refused, from anyone ...
    with pytest.raises(RateLimited):
        lim.failure("10.0.0.99")
    # ... but nothing stops a client before its secret is looked up.
    for client in ("10.0.0.0", "10.0.0.99", "2001:db8::1"):
        lim.check_client(client)
    # The refused failure still counts against its client: two more and it is refused outright.
    for _ in range(2):
        with pytest.raises(RateLimited):
            lim.failure("10.0.0.99")
    with pytest.raises(RateLimited):
        lim.check_client("10.0.0.99")
    lim.check_client("10.0.0.98")


def test_one_64_is_one_client_and_its_failures_block_only_it(core, clock):
    lim = limiter(core, clock, per_client=3, client_window=60, overall=1000, overall_window=600)
    for host in ("1", "2", "3"):
        lim.failure(f"2001:db8:1:2::{host}")
    with pytest.raises(RateLimited) as info:
        lim.check_client("2001:db8:1:2:ffff::9")  # the same /64, another address
    assert 1 <= info.value.retry_after <= 60
    lim.check_client("2001:db8:1:3::1")  # the next /64 is someone else
    lim.check_client("192.0.2.1")
    clock.advance(seconds=61)
    lim.check_client("2001:db8:1:2::1")


def test_each_limit_counts_on_its_own(core, clock):
    for _ in range(core.request_limiter.per_client):
        core.request_limiter.failed("192.0.2.5")
    with pytest.raises(RateLimited):
        core.request_limiter.check("192.0.2.5")
    core.limiter.check_client("192.0.2.5")  # access requests are not failed look-ups
    core.denied_reads.check("192.0.2.5")


@pytest.fixture
def review_link(core, server_root):
    (server_root / "f.txt").write_text("hello")
    ds = datasets.share(core, "ada-owner", {"path": "f.txt", "title": "T", "access": {"level": "reviewer-only"}})
    return links.create(core, "ada-owner", ds, {"label": "R1"})[1]


def test_two_processes_on_one_database_spend_one_budget(core, second, clock, review_link):
    for ctx in (core, second):
        ctx.limiter.per_client, ctx.limiter.overall = 4, 6
    for ctx in (core, second, core, second):  # the attacker spreads its guesses over both
        with pytest.raises(NotFound):
            links.resolve(ctx, "dsr_" + "Z" * 43, "198.51.100.7")
    for ctx in (core, second):  # its budget is spent in either: not two budgets of 4
        with pytest.raises(RateLimited):
            links.resolve(ctx, review_link, "198.51.100.7")
    # Strangers spend the rest of the overall budget in the second process ...
    for address in ("203.0.113.1", "203.0.113.2"):
        with pytest.raises(NotFound):
            links.resolve(second, "dsr_" + "Y" * 43, address)
    with pytest.raises(RateLimited):  # ... and the first refuses further failures from anyone
        links.resolve(core, "dsr_" + "X" * 43, "203.0.113.3")
    for ctx in (core, second):  # while a valid secret is still served, in both
        assert links.resolve(ctx, review_link, "203.0.113.3")[0].label == "R1"
    clock.advance(seconds=core.settings.failed_lookups_client_window + 1)
    assert links.resolve(second, review_link, "198.51.100.7")[0].label == "R1"  # its window has passed


@pytest.mark.parametrize("name", ["request_limiter", "denied_reads"])
def test_the_flood_limits_are_shared_too(core, second, name):
    first, other = getattr(core, name), getattr(second, name)
    for _ in range(other.per_client):
        first.check("2001:db8:7:7::1")
        first.failed("2001:db8:7:7::1")
    with pytest.raises(RateLimited):
        other.check("2001:db8:7:7:ffff::2")  # the same /64, in the other process
    other.check("2001:db8:7:8::1")


def note(core, repeats: Repeats, key: tuple) -> int | None:
    """What reads does for a denial under its limit: None if only counted, else the repeats of the event to write."""
    if core.denied_reads.failed(key[0], also=lambda conn: repeats.repeat(conn, key)):
        return None
    with core.audit.transaction() as s:
        return repeats.take(s, key)


def test_repeats_are_collapsed_per_window_and_counted(core, clock):
    repeats = Repeats(core.counts_engine, clock, window=300)
    key = ("192.0.2.7", "public", "ds-1", 1, "table.csv")
    assert note(core, repeats, key) == 0  # the first one is recorded
    assert [note(core, repeats, key) for _ in range(9)] == [None] * 9
    repeats.count(key)  # refused by a limit: not recorded now, still counted
    assert note(core, repeats, ("192.0.2.8", *key[1:])) == 0  # another client is recorded on its own
    clock.advance(seconds=301)
    assert note(core, repeats, key) == 10  # the next record carries what was not recorded alone
    assert note(core, repeats, key) is None
    other = ("192.0.2.9", "public", "ds-1", 1, "table.csv")
    repeats.count(other)  # refused before it was ever recorded: the next note records it
    assert note(core, repeats, other) == 1


def test_a_repeat_counted_by_another_process_is_in_its_next_record_once(core, second, clock):
    key = ("192.0.2.7", "public", "ds-1", 1, "table.csv")
    here, there = (Repeats(ctx.counts_engine, clock, window=300) for ctx in (core, second))
    assert note(core, here, key) == 0
    assert [note(ctx, r, key) for ctx, r in [(second, there), (core, here)] * 5] == [None] * 10
    there.count(key)
    with core.audit.transaction() as s:  # the shutdown of either process takes them all, once
        assert here.drain(s) == [(key, 11)]
    with second.audit.transaction() as s:
        assert there.drain(s) == []
    assert not here.pending() and not there.pending()
    there.count(key)
    clock.advance(seconds=301)
    assert note(core, here, key) == 1
    # What a window can no longer see is pruned; repeats still waiting for a record are not.
    there.count(("192.0.2.99", "public", "ds-1", 1, "x.csv"))
    clock.advance(seconds=301)
    assert note(second, there, ("192.0.2.50", "public", "ds-2", 1, "t.csv")) == 0
    assert rows(core, "repeat") == 2  # the new record and the waiting repeat
