"""Behind reverse proxies, from outside: with trusted_proxies the right-most X-Forwarded-For hop
that is not a proxy is the client (its own limits, its address in the audit log), tornado's
xheaders are not believed, and a limit is one budget for every process on the database."""

import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from jupyter_datashare.config import DataShareConfig, load
from jupyter_datashare.core.errors import InvalidInput
from tests.conftest import link_for, listening, path_of, server_config

UNKNOWN = ("datashare", "r", "dsr_" + "Z" * 43)
LIMITS = {"failed_lookups_per_client": 3, "failed_lookups_overall": 1000}
PROXIED = {**LIMITS, "trusted_proxies": ["127.0.0.1"]}  # the test client connects from 127.0.0.1


@pytest.fixture
def xheaders():
    """c.ServerApp.trust_xheaders (pytest-jupyter's server needs it passed to its HTTPServer too)."""
    return False


@pytest.fixture
def jp_server_config(clock, ds_config, xheaders):
    return server_config(clock, ds_config, trust_xheaders=xheaders)


@pytest.fixture
def http_server(jp_asyncio_loop, http_server_port, jp_web_app, xheaders):
    yield from listening(jp_asyncio_loop, http_server_port, jp_web_app, xheaders=xheaders)


def via(forwarded: str, **headers) -> dict:
    return {"X-Forwarded-For": forwarded, **headers}


async def codes(call, n, headers) -> list[int]:
    return [(await call("GET", *UNKNOWN, anon=True, headers=headers)).code for _ in range(n)]


async def review_link(call, share) -> list[str]:
    return path_of((await link_for(call, (await share(access={"level": "reviewer-only"}))["id"]))["url"])


@pytest.mark.parametrize("ds_config", [PROXIED])
async def test_the_forwarded_client_has_its_own_budget_and_is_on_record(call, share, ctx, ds_config):
    link = await review_link(call, share)
    assert await codes(call, 4, via("198.51.100.1")) == [404, 404, 404, 429]
    assert await codes(call, 1, via("198.51.100.2")) == [404]  # another client behind the same proxy
    # Hops a client writes itself (left of its own address) are not believed: no fresh budget.
    assert await codes(call, 1, via("203.0.113.9, 198.51.100.1")) == [429]
    assert (await call("GET", *link, anon=True, headers=via("198.51.100.1"))).code == 429
    assert (await call("GET", *link, anon=True, headers=via("198.51.100.3"))).code == 200
    # Through two proxies of ours (the second one trusted too): still the client they name.
    assert await codes(call, 1, via("198.51.100.4, 127.0.0.1")) == [404]
    failed = [e["client"] for e in ctx.audit.events(action="link.lookup_failed")]
    assert failed == ["198.51.100.1"] * 3 + ["198.51.100.2", "198.51.100.4"]


@pytest.mark.parametrize("ds_config", [PROXIED])
async def test_forwarded_ipv6_clients_are_counted_per_64(call, ds_config):
    assert await codes(call, 3, via("2001:db8:1:2::1")) == [404] * 3
    assert await codes(call, 1, via("2001:db8:1:2:ffff::9")) == [429]  # the same /64
    assert await codes(call, 1, via("2001:db8:1:3::1")) == [404]


@pytest.mark.parametrize("ds_config", [LIMITS])
async def test_without_trusted_proxies_the_header_is_ignored(call, ctx, ds_config):
    got = [(await call("GET", *UNKNOWN, anon=True, headers=via(f"198.51.100.{i}"))).code for i in range(4)]
    assert got == [404, 404, 404, 429]  # four "clients" are one peer: whoever sent the header
    assert {e["client"] for e in ctx.audit.events(action="link.lookup_failed")} == {"127.0.0.1"}


@pytest.mark.parametrize("xheaders", [True])
@pytest.mark.parametrize("ds_config", [PROXIED])
async def test_with_trusted_proxies_tornado_s_xheaders_are_not_believed(call, ctx, ds_config, xheaders):
    # trust_xheaders lets anyone pick their address with X-Real-IP: a fresh budget per request.
    spoofed = [via("198.51.100.1", **{"X-Real-IP": f"192.0.2.{i}"}) for i in range(4)]
    assert [(await call("GET", *UNKNOWN, anon=True, headers=h)).code for h in spoofed] == [404, 404, 404, 429]
    assert {e["client"] for e in ctx.audit.events(action="link.lookup_failed")} == {"198.51.100.1"}


SECOND_PROCESS = """
import json, sys
from datetime import datetime
from jupyter_datashare.core import links
from jupyter_datashare.core.clock import ManualClock
from jupyter_datashare.core.errors import NotFound
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

given = json.load(sys.stdin)
settings = given["settings"]
for name in ("owner_identities", "trusted_proxies"):
    settings[name] = tuple(settings[name])
core = DataShare(Settings(**settings), ManualClock(datetime.fromisoformat(given["now"])))
try:
    for _ in range(3):
        try:
            links.resolve(core, "dsr_" + "Q" * 43, given["client"])
        except NotFound:
            pass
finally:
    core.close()
"""


@pytest.mark.parametrize("ds_config", [PROXIED])
async def test_failures_in_another_process_spend_this_server_s_budget(call, share, ctx, clock, ds_config):
    link = await review_link(call, share)
    given = {"settings": asdict(ctx.settings), "now": clock.now().isoformat(), "client": "198.51.100.66"}
    done = subprocess.run([sys.executable, "-c", SECOND_PROCESS], input=json.dumps(given), text=True,
                          capture_output=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Its three failures were this server's too: the client is refused here at once, a valid link too.
    assert await codes(call, 1, via("198.51.100.66")) == [429]
    assert (await call("GET", *link, anon=True, headers=via("198.51.100.66"))).code == 429
    assert (await call("GET", *link, anon=True, headers=via("198.51.100.67"))).code == 200
    assert [e["client"] for e in ctx.audit.events(action="link.lookup_failed")] == ["198.51.100.66"] * 3


def test_a_proxy_that_is_no_address_is_named(jp_environ, jp_config_dir):
    (jp_config_dir / "jupyter_server_config.py").write_text("c.DataShareApp.trusted_proxies = ['10.0.0.0/8', 'proxy']\n")
    with pytest.raises(InvalidInput) as info:
        load()
    assert info.value.field == "DataShareApp.trusted_proxies" and "'proxy' is not an IP address" in info.value.message
    assert DataShareConfig(trusted_proxies=["10.0.0.0/8", "::1"]).core_settings("/").trusted_proxies == ("10.0.0.0/8", "::1")
