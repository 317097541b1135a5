import pytest

from jupyter_datashare.core.errors import RateLimited
from jupyter_datashare.core.ratelimit import FailureLimiter, Repeats, client_key


def test_overall_limit_and_window(clock):
    limiter = FailureLimiter(clock, per_client=100, client_window=60, overall=5, overall_window=60)
    for i in range(5):
        limiter.check(f"10.0.0.{i}")
        limiter.failed(f"10.0.0.{i}")
    with pytest.raises(RateLimited) as info:
        limiter.check("10.0.0.99")
    assert 1 <= info.value.retry_after <= 60
    clock.advance(seconds=61)
    limiter.check("10.0.0.99")


def test_memory_is_bounded(clock):
    limiter = FailureLimiter(clock, overall=10**9)
    limiter.MAX_CLIENTS = 100
    for i in range(1000):
        limiter.failed(f"c{i}")
    assert len(limiter._clients) == 100


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


def test_strangers_filling_the_overall_limit_never_block_a_valid_secret(clock):
    limiter = FailureLimiter(clock, per_client=3, client_window=60, overall=5, overall_window=600)
    for i in range(5):
        limiter.check_client(f"10.0.0.{i}")
        limiter.failure(f"10.0.0.{i}")
    # Everyone's budget is spent: a further failure is refused, from anyone ...
    with pytest.raises(RateLimited):
        limiter.failure("10.0.0.99")
    # ... but nothing stops a client before its secret is looked up.
    for client in ("10.0.0.0", "10.0.0.99", "2001:db8::1"):
        limiter.check_client(client)
    assert len(limiter._all) == 5  # refused failures are not kept: memory stays bounded


def test_one_64_is_one_client_and_its_failures_block_only_it(clock):
    limiter = FailureLimiter(clock, per_client=3, client_window=60, overall=1000, overall_window=600)
    for host in ("1", "2", "3"):
        limiter.failure(f"2001:db8:1:2::{host}")
    with pytest.raises(RateLimited) as info:
        limiter.check_client("2001:db8:1:2:ffff::9")  # the same /64, another address
    assert 1 <= info.value.retry_after <= 60
    limiter.check_client("2001:db8:1:3::1")  # the next /64 is someone else
    limiter.check_client("192.0.2.1")
    clock.advance(seconds=61)
    limiter.check_client("2001:db8:1:2::1")


def test_repeats_are_collapsed_per_window_and_counted(clock):
    repeats = Repeats(clock, window=300)
    key = ("192.0.2.7", "public", "ds-1", 1, "table.csv")
    assert repeats.note(key) == 0  # the first one is recorded
    assert [repeats.note(key) for _ in range(9)] == [None] * 9
    repeats.count(key)  # refused by a limit: not recorded now, still counted
    assert repeats.note(("192.0.2.8", *key[1:])) == 0  # another client is recorded on its own
    clock.advance(seconds=301)
    assert repeats.note(key) == 10  # the next record carries what was not recorded alone
    assert repeats.note(key) is None
    other = ("192.0.2.9", "public", "ds-1", 1, "table.csv")
    repeats.count(other)  # refused before it was ever recorded: the next note records it
    assert repeats.note(other) == 1
