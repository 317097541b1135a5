"""Who the client of a request is, and which client an address counts as.

Behind reverse proxies the connecting peer is a proxy; the client is then the right-most
``X-Forwarded-For`` hop that is not one of ``trusted_proxies``. Only that hop is believed: every
proxy appends the address it received the request from, so anything left of the first hop no
trusted proxy wrote is whatever the client chose to send.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNIX = "unix"  # the peer of a Unix socket (c.ServerApp.sock), which has no address


def client_key(address: str | None) -> str:
    """The client an address belongs to: an IPv4 address as is, an IPv6 address by its /64
    (one subscriber gets a whole /64, so counting single IPv6 addresses would be no limit at all)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return address  # not an address (a test, a Unix socket): its own client
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def parse_address(text: str) -> Address | None:
    """An address as a proxy writes it (``192.0.2.1``, ``192.0.2.1:4711``, ``2001:db8::1``,
    ``[2001:db8::1]:4711``), IPv4-mapped IPv6 as IPv4; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        text = host
    elif text.count(":") == 1:  # IPv4 with a port (IPv6 has at least two colons)
        text, port = text.split(":")
        if not port.isdigit():
            return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``trusted_proxies`` as networks; ValueError naming the first entry that is none."""
    networks = []
    for entry in entries:
        if entry.strip() == UNIX:
            continue
        try:
            net = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8, 2001:db8::/32, or unix)") from None
        if net.version == 6 and net.network_address.ipv4_mapped is not None and net.prefixlen >= 96:
            net = ipaddress.ip_network(f"{net.network_address.ipv4_mapped}/{net.prefixlen - 96}")  # as peers are read
        networks.append(net)
    return tuple(networks)


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed (``c.DataShareApp.trusted_proxies``)."""

    def __init__(self, entries: Iterable[str] = ()):
        entries = list(entries)
        self.networks = parse_networks(entries)
        self.unix = any(e.strip() == UNIX for e in entries)

    def __bool__(self) -> bool:
        return bool(self.networks) or self.unix

    def trusts(self, ip: Address) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client of a request that came from ``peer`` with this ``X-Forwarded-For``.

        An untrusted peer is the client, whatever it sends. Otherwise the hops are walked from the
        right, past trusted ones, to the first that is not; if all are trusted, the left-most is
        the client. A hop that is not an address ends the walk at the last one walked past (a
        proxy we trust): nothing left of it can be believed, and a client never picks its own key.
        """
        if peer == UNIX:
            if not self.unix:
                return peer
        else:
            ip = parse_address(peer)
            if ip is None or not self.trusts(ip):
                return peer
        client = peer
        for hop in reversed((forwarded_for or "").split(",") if forwarded_for else ()):
            ip = parse_address(hop)
            if ip is None:
                break
            client = str(ip)
            if not self.trusts(ip):
                break
        return client
