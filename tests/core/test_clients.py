"""Who the client is behind reverse proxies: the right-most X-Forwarded-For hop no trusted proxy is."""

import pytest

from jupyter_datashare.core.clients import TrustedProxies, client_key, parse_address

PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48"])


@pytest.mark.parametrize(
    "peer, forwarded, client",
    [
        # The right-most hop that is not a trusted proxy, past any number of trusted ones.
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7, 10.1.2.3, 10.9.9.9", "198.51.100.7"),
        # Whatever a client writes itself sits left of its own address: never believed.
        ("127.0.0.1", "1.2.3.4, 5.6.7.8, 198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "10.0.0.1, 198.51.100.7, 10.1.1.1", "198.51.100.7"),  # a "trusted" spoof, left of it
        # Every hop trusted (a client inside the proxies' own network): the left-most.
        ("127.0.0.1", "10.0.0.5, 10.0.0.6", "10.0.0.5"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
        # A peer that is no trusted proxy is the client: its header is ignored.
        ("198.51.100.9", "10.0.0.5", "198.51.100.9"),
        ("203.0.113.1", "1.1.1.1", "203.0.113.1"),
        # IPv6 proxies and clients, brackets and ports as some proxies write them.
        ("2001:db8:ffff:1::2", "2001:db8:1:2::99", "2001:db8:1:2::99"),
        ("::ffff:127.0.0.1", "[2001:db8:1:2::99]:4711, 10.0.0.1:80", "2001:db8:1:2::99"),
        ("127.0.0.1", "::ffff:192.0.2.4", "192.0.2.4"),
        # A malformed hop ends the walk at the last proxy walked past: the client picks no key.
        ("127.0.0.1", "198.51.100.7, garbage, 10.0.0.8", "10.0.0.8"),
        ("127.0.0.1", "198.51.100.7, unknown", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.7,,", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.7, 10.0.0.8:x", "127.0.0.1"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(peer, forwarded, client):
    assert PROXIES.client(peer, forwarded) == client


def test_forwarded_ipv6_clients_are_counted_per_64():
    a = PROXIES.client("127.0.0.1", "2001:db8:1:2::1")
    b = PROXIES.client("127.0.0.1", "198.51.100.7, 2001:db8:1:2:ffff::9")
    assert client_key(a) == client_key(b) == "2001:db8:1:2::/64"
    assert client_key(PROXIES.client("127.0.0.1", "2001:db8:1:3::1")) == "2001:db8:1:3::/64"


def test_without_trusted_proxies_nobody_s_header_counts():
    none = TrustedProxies([])
    assert not none
    assert none.client("127.0.0.1", "198.51.100.7") == "127.0.0.1"


def test_a_unix_socket_is_trusted_only_when_listed():
    assert TrustedProxies(["127.0.0.1"]).client("unix", "198.51.100.7") == "unix"
    assert TrustedProxies(["unix"]).client("unix", "198.51.100.7") == "198.51.100.7"
    assert TrustedProxies(["unix"]).client("127.0.0.1", "198.51.100.7") == "127.0.0.1"


def test_ipv4_mapped_proxy_networks_match_the_peers_they_name():
    mapped = TrustedProxies(["::ffff:10.0.0.0/104"])
    assert mapped.client("10.2.3.4", "198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "proxy.example.org", "", "10.0.0.1/8/8"])
def test_a_proxy_that_is_no_address_or_network_is_refused_by_name(entry):
    with pytest.raises(ValueError, match="is not an IP address or network"):
        TrustedProxies(["127.0.0.1", entry])


@pytest.mark.parametrize("text", ["", " ", "[::1", "[::1]x", "1.2.3.4:", "1.2.3", "::1]"])
def test_what_is_no_address_is_none(text):
    assert parse_address(text) is None
