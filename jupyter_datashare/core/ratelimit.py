"""Limits on failed secret look-ups, per client address and over all clients.

Capability secrets have no account to lock, so failures are counted per address and globally
(OWASP; PyPI does the same for tokens). Memory stays bounded however many addresses call.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque

from .clock import Clock
from .errors import RateLimited


class FailureLimiter:
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

    def check(self, client: str) -> None:
        """Raise RateLimited if this client, or everyone together, failed too often lately."""
        now = self._t()
        with self._lock:
            self._trim(self._all, now - self.overall_window)
            waits = []
            if len(self._all) >= self.overall:
                waits.append(self._all[0] + self.overall_window - now)
            q = self._clients.get(client)
            if q is not None:
                self._trim(q, now - self.client_window)
                if len(q) >= self.per_client:
                    waits.append(q[0] + self.client_window - now)
            if waits:
                raise RateLimited(max(1, math.ceil(max(waits))))

    def failed(self, client: str) -> None:
        now = self._t()
        with self._lock:
            self._all.append(now)
            q = self._clients.pop(client, None) or deque()
            q.append(now)
            self._clients[client] = q
            while len(self._clients) > self.MAX_CLIENTS:
                self._clients.popitem(last=False)
