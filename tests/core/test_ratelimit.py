import pytest

from jupyter_datashare.core.errors import RateLimited
from jupyter_datashare.core.ratelimit import FailureLimiter


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
