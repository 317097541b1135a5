"""Limits on failed secret look-ups and denied reads, per client and over all clients.

Capability secrets have no account to lock, so failures are counted per client and globally
(OWASP; PyPI does the same for tokens). A client is an IPv4 address or an IPv6 /64 (one
subscriber gets a whole /64, so counting single IPv6 addresses would be no limit at all).
Memory stays bounded however many addresses call.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict, deque

from .clock import Clock
from .errors import RateLimited


def client_key(address: str | None) -> str:
    """The client an address belongs to: an IPv4 address as is, an IPv6 address by its /64."""
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


class FailureLimiter:
    """Failures per client (``per_client`` in ``client_window`` s) and overall (``overall`` in
    ``overall_window`` s).

    For capability secrets, use ``check_client`` before the look-up and ``failure`` after a failed
    one: the overall limit then refuses only further failures, so strangers who fill it never lock
    out anyone holding a valid secret, while a client that failed too often is refused outright
    (see ``check_client``). ``check`` and ``failed`` apply both limits up front (a flood limit).
    """

    MAX_CLIENTS = 10_000

    def __init__(self, clock: Clock, per_client: int = 10, client_window: float = 300.0,
                 overall: int = 1000, overall_window: float = 3600.0):  # fmt: skip
        self.clock = clock
        self.per_client, self.client_window = per_client, client_window
        self.overall, self.overall_window = overall, overall_window
        self._clients: OrderedDict[str, deque] = OrderedDict()
        self._all: deque = deque()
        self._lock = threading.Lock()

    def _t(self) -> float:
        return self.clock.now().timestamp()

    @staticmethod
    def _trim(q: deque, horizon: float) -> None:
        while q and q[0] <= horizon:
            q.popleft()

    def _client_wait(self, key: str, now: float) -> float | None:
        q = self._clients.get(key)
        if q is not None:
            self._trim(q, now - self.client_window)
            if len(q) >= self.per_client:
                return q[0] + self.client_window - now
        return None

    def _overall_wait(self, now: float) -> float | None:
        self._trim(self._all, now - self.overall_window)
        if len(self._all) >= self.overall:
            return self._all[0] + self.overall_window - now
        return None

    def _record_client(self, key: str, now: float) -> None:
        q = self._clients.pop(key, None) or deque()
        q.append(now)
        self._clients[key] = q
        while len(self._clients) > self.MAX_CLIENTS:
            self._clients.popitem(last=False)

    @staticmethod
    def _refuse(*waits: float | None) -> None:
        waits = [w for w in waits if w is not None]
        if waits:
            raise RateLimited(max(1, math.ceil(max(waits))))

    def check_client(self, client: str | None) -> None:
        """Raise RateLimited if this client failed too often lately.

        Checked before the secret is even looked up, so a client over its limit is refused a valid
        secret too: otherwise 429 for wrong guesses and 200 for the right one would let it go on
        guessing. Only this client's own failures (its /64) can bring it here.
        """
        now = self._t()
        with self._lock:
            self._refuse(self._client_wait(client_key(client), now))

    def failure(self, client: str | None) -> None:
        """Count a failed look-up; raise RateLimited if everyone together failed too often lately
        (the failure is then counted for this client only, so the overall count stays bounded)."""
        now = self._t()
        key = client_key(client)
        with self._lock:
            self._record_client(key, now)
            wait = self._overall_wait(now)
            if wait is None:
                self._all.append(now)
        self._refuse(wait)

    def check(self, client: str | None) -> None:
        """Raise RateLimited if this client, or everyone together, failed too often lately."""
        now = self._t()
        with self._lock:
            self._refuse(self._overall_wait(now), self._client_wait(client_key(client), now))

    def failed(self, client: str | None) -> None:
        now = self._t()
        with self._lock:
            self._all.append(now)
            self._record_client(client_key(client), now)


class Repeats:
    """Collapses repeats of the same thing (a client denied the same file) into one record per
    ``window`` seconds that carries how many were not recorded on their own since the last one."""

    MAX_KEYS = 10_000

    def __init__(self, clock: Clock, window: float = 300.0):
        self.clock, self.window = clock, window
        self._seen: OrderedDict[tuple, list] = OrderedDict()  # key -> [recorded at, repeats since]
        self._lock = threading.Lock()

    def note(self, key: tuple) -> int | None:
        """None if ``key`` was recorded less than ``window`` ago (this one is counted); otherwise
        the number of repeats since the last record (0 the first time): record one now."""
        now = self.clock.now().timestamp()
        with self._lock:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.window:
                entry[1] += 1
                return None
            repeats = entry[1] if entry is not None else 0
            self._seen.pop(key, None)
            self._seen[key] = [now, 0]
            while len(self._seen) > self.MAX_KEYS:
                self._seen.popitem(last=False)
            return repeats

    def count(self, key: tuple) -> None:
        """A repeat that is not recorded now (it was refused earlier); it shows in the next record."""
        with self._lock:
            entry = self._seen.get(key)
            if entry is None:
                self._seen[key] = entry = [-math.inf, 0]  # never recorded: the next note records it
                while len(self._seen) > self.MAX_KEYS:
                    self._seen.popitem(last=False)
            entry[1] += 1

    def drain(self) -> list[tuple[tuple, int]]:
        """Every key with repeats not yet recorded, and how many; they are then cleared."""
        with self._lock:
            out = [(key, entry[1]) for key, entry in self._seen.items() if entry[1]]
            for entry in self._seen.values():
                entry[1] = 0
            return out
