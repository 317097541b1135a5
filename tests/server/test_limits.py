"""Limits on public routes, from outside: strangers' failures never lock out a valid link, an
IPv6 /64 is one client, and denied downloads cannot flood the audit log."""

import json

import pytest

from tests.conftest import link_for, listening, path_of, server_config
from tests.server.test_requests import BOB, CAROL, JSON, share_restricted, submit


@pytest.fixture
def jp_server_config(clock, ds_config):
    # Behind a proxy the client is the address it forwards (X-Real-IP / X-Forwarded-For).
    return server_config(clock, ds_config, trust_xheaders=True)


@pytest.fixture
def http_server(jp_asyncio_loop, http_server_port, jp_web_app):
    """pytest-jupyter's test server, listening as ServerApp does with trust_xheaders."""
    yield from listening(jp_asyncio_loop, http_server_port, jp_web_app, xheaders=True)


def at(address: str, **headers) -> dict:
    return {"X-Real-IP": address, **headers}


async def valid_links(call, share):
    """A review link, a status link, a grant link and an external member's committee link."""
    open_review = await share(access={"level": "reviewer-only"}, files={"rv/a.csv": "a\n1\n"}, path="rv")
    review = path_of((await link_for(call, open_review["id"]))["url"])
    restricted = await share_restricted(share)
    committee = path_of(restricted["committee_links"][0]["url"])
    sub = await submit(call, restricted["id"])
    status = path_of(sub["status_url"])
    req = (await call.json("GET", "datashare", "api", "requests", headers=BOB))["requests"][0]
    for member in (BOB, CAROL):  # two approvals needed
        await call.json("POST", "datashare", "api", "requests", req["id"], "decision", headers=member,
                        body={"decision": "approve"})  # fmt: skip
    approved = json.loads((await call("GET", *status, anon=True, headers=JSON)).body)
    assert approved["status"] == "approved"
    grant = path_of("http://x" + approved["files"][0]["url"])
    return {"review": review, "status": status, "grant": grant, "committee": committee}


@pytest.mark.parametrize("ds_config", [{"failed_lookups_per_client": 3, "failed_lookups_overall": 20}])
async def test_a_flood_of_failures_from_many_addresses_never_locks_out_a_valid_link(call, share, ds_config):
    valid = await valid_links(call, share)
    codes = []
    for i in range(40):  # 40 addresses, two unknown secrets each, on every capability route
        for kind, route in (("r", "dsr_"), ("g", "dsg_")):
            r = await call("GET", "datashare", kind, f"{route}{'Z' * 42}{i % 10}", anon=True, headers=at(f"198.51.100.{i}"))
            codes.append(r.code)
    assert codes.count(404) == 20 and codes.count(429) == 60  # everyone's budget is spent
    # Strangers' failures never refuse a valid secret, whoever holds it (one of them, or anyone).
    for address in ("198.51.100.7", "203.0.113.9", "2001:db8:9::1"):
        for kind, parts in valid.items():
            r = await call("GET", *parts, anon=True, headers=at(address))
            assert r.code == 200, (kind, address, r.code)
    # ... while a further unknown secret is still refused, from anyone, without being looked at.
    for kind in ("s", "c", "r"):
        r = await call("GET", "datashare", kind, "ds" + kind + "_" + "Q" * 43, anon=True, headers=at("203.0.113.10"))
        assert r.code == 429 and int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize("ds_config", [{"failed_lookups_per_client": 3, "failed_lookups_overall": 1000}])
async def test_an_ipv6_64_is_one_client(call, share, ds_config):
    link = path_of((await link_for(call, (await share(access={"level": "reviewer-only"}))["id"]))["url"])
    for host in ("1", "2", "3"):  # three addresses of one /64: one client, now at its limit
        r = await call("GET", "datashare", "r", "dsr_" + "Z" * 43, anon=True, headers=at(f"2001:db8:1:2::{host}"))
        assert r.code == 404
    for address in ("2001:db8:1:2:abcd::99", "2001:db8:1:2::1"):
        # A client over its own limit is refused even a valid secret: 429 for wrong guesses and
        # 200 for the right one would let it go on guessing.
        r = await call("GET", *link, anon=True, headers=at(address))
        assert r.code == 429
    assert (await call("GET", *link, anon=True, headers=at("2001:db8:1:3::1"))).code == 200  # the next /64
    assert (await call("GET", "datashare", "r", "dsr_" + "Y" * 43, anon=True, headers=at("2001:db8:1:3::1"))).code == 404
    # An IPv4 client seen as an IPv4-mapped IPv6 address is that IPv4 client.
    for _ in range(3):
        await call("GET", "datashare", "r", "dsr_" + "X" * 43, anon=True, headers=at("192.0.2.44"))
    assert (await call("GET", *link, anon=True, headers=at("::ffff:192.0.2.44"))).code == 429


async def test_repeated_denied_downloads_write_one_event_that_counts_them(call, share, ctx, clock):
    restricted = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    codes = set()
    for _ in range(300):
        r = await call("GET", "datashare", "d", restricted["id"], "files", "table.csv", anon=True, headers=at("192.0.2.80"))
        codes.add(r.code)
    assert codes == {403}  # under the denial limit (3 x 1000 in the suite's default config)
    assert (await call("GET", "datashare", "d", restricted["id"], "files", "table.csv", anon=True,
                       headers=at("192.0.2.81"))).code == 403  # fmt: skip
    denied = ctx.audit.events(action="file.denied")
    # One event per client and file per window, not 301 fsync'd ones: the attempts are all on record.
    assert [(e["client"], e["file"]) for e in denied] == [("192.0.2.80", "table.csv"), ("192.0.2.81", "table.csv")]
    clock.advance(seconds=ctx.settings.failed_lookups_client_window + 1)
    await call("GET", "datashare", "d", restricted["id"], "files", "table.csv", anon=True, headers=at("192.0.2.80"))
    denied = ctx.audit.events(action="file.denied")
    assert len(denied) == 3 and denied[-1]["details"] == {"repeats": 299}  # what the window collapsed
    assert ctx.audit.verify().ok


@pytest.mark.parametrize("ds_config", [{"failed_lookups_per_client": 5, "failed_lookups_overall": 1000}])
async def test_denied_downloads_are_limited_per_client(call, share, ctx, ds_config):
    restricted = await share(access={"level": "restricted"}, committee={"members": ["bob"]})
    hidden = await share(access={"level": "reviewer-only"}, files={"hid/real.csv": "x\n"}, path="hid")
    files = ("datashare", "d", restricted["id"], "files")
    codes = [(await call("GET", *files, "table.csv", anon=True, headers=at("2001:db8:5:6::1"))).code for _ in range(20)]
    assert codes == [403] * 15 + [429] * 5  # three times the look-up budget, then refused
    r = await call("GET", *files, "notes", "readme.txt", anon=True, headers={**at("2001:db8:5:6::2"), **JSON})  # same /64
    assert r.code == 429 and int(r.headers["Retry-After"]) > 0 and "denied downloads" in json.loads(r.body)["message"]
    assert (await call("GET", *files, "table.csv", anon=True, headers=at("2001:db8:5:7::1"))).code == 403  # someone else
    # A dataset the public cannot see answers as ever (like an unknown one), never with a 429
    # that would tell its real file names from guesses.
    real = await call("GET", "datashare", "d", hidden["id"], "files", "real.csv", anon=True, headers=at("2001:db8:5:6::1"))
    guess = await call("GET", "datashare", "d", hidden["id"], "files", "guess.csv", anon=True, headers=at("2001:db8:5:6::1"))
    assert real.code == guess.code == 404
    denied = ctx.audit.events(action="file.denied")
    assert len(denied) == 2 and {e["client"] for e in denied} == {"2001:db8:5:6::1", "2001:db8:5:7::1"}
    assert ctx.audit.verify().ok
