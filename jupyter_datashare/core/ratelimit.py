"""Limits on failed secret look-ups, denied reads and access requests, per client and over all clients.

Capability secrets have no account to lock, so failures are counted per client and globally
(OWASP; PyPI does the same for tokens). A client is an IPv4 address or an IPv6 /64
(``clients.client_key``). The counts live in the database (``failed_attempts``), so every process
of a deployment (servers behind one proxy, the CLI, notebooks) spends one budget: a second
process never doubles an attacker's. Successes write nothing; each failure inserts one row; old
rows are pruned, so the table holds at most the failures of the last window.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from sqlalchemy import and_, bindparam, delete, event, func, insert, select, text
from sqlalchemy.engine import Engine

from .clients import client_key
from .clock import Clock
from .db import immediate, make_engine
from .errors import RateLimited
from .models import FailedAttempt

_T = FailedAttempt.__table__
# Built once: building a statement costs more than running it on its covering index.
_CLIENT_COUNT = select(func.count(), func.min(_T.c.at)).where(
    _T.c.scope == bindparam("scope"), _T.c.client == bindparam("client"), _T.c.at > bindparam("since"))
_OVERALL_COUNT = select(func.count(), func.min(_T.c.at)).where(
    _T.c.scope == bindparam("scope"), _T.c.at > bindparam("since"), _T.c.counted)
_INSERT = insert(_T)
_PRUNE = delete(_T).where(and_(_T.c.scope == bindparam("scope"), _T.c.at <= bindparam("until")))
MAX_KEY = 100  # the column's width; only non-addresses (never from HTTP) are that long


def counting_engine(engine: Engine, busy_timeout_ms: int) -> Engine:
    """The engine failures are counted on: ``engine`` itself, except on an SQLite file, where a
    pool of its own skips the fsync of each commit (synchronous=NORMAL; 50 times cheaper here).
    A power cut may then forget the last few failures, which only ever gives an attacker back
    what a restart of a single process always did; the audit log never uses these connections."""
    url = engine.url
    if engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    counts = make_engine(url.render_as_string(hide_password=False), busy_timeout_ms)

    @event.listens_for(counts, "connect")
    def _relaxed(dbapi_conn, _record):  # runs after make_engine's own set-up (FULL)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return counts


class FailureLimiter:
    """Failures per client (``per_client`` in ``client_window`` s) and overall (``overall`` in
    ``overall_window`` s), for one ``scope`` of the shared table.

    For capability secrets, use ``check_client`` before the look-up and ``failure`` after a failed
    one: the overall limit then refuses only further failures, so strangers who fill it never lock
    out anyone holding a valid secret, while a client that failed too often is refused outright
    (see ``check_client``). ``check`` and ``failed`` apply both limits up front (a flood limit).
    Processes check and then insert, so a burst across processes may pass a limit by a few.
    """

    PRUNE_EVERY = 60.0  # seconds between deletions of rows no window can see any more

    def __init__(self, engine: Engine, clock: Clock, scope: str, per_client: int = 10, client_window: float = 300.0,
                 overall: int = 1000, overall_window: float = 3600.0):  # fmt: skip
        self.engine, self.clock, self.scope = engine, clock, scope
        self.per_client, self.client_window = per_client, client_window
        self.overall, self.overall_window = overall, overall_window
        self._pruned = -math.inf

    def _t(self) -> float:
        return self.clock.now().timestamp()

    @staticmethod
    def _key(client: str | None) -> str:
        return client_key(client)[:MAX_KEY]

    def _client_wait(self, conn, key: str, now: float) -> float | None:
        since = now - self.client_window
        count, oldest = conn.execute(_CLIENT_COUNT, {"scope": self.scope, "client": key, "since": since}).one()
        return None if count < self.per_client else (oldest or now) + self.client_window - now

    def _overall_wait(self, conn, now: float) -> float | None:
        count, oldest = conn.execute(_OVERALL_COUNT, {"scope": self.scope, "since": now - self.overall_window}).one()
        return None if count < self.overall else (oldest or now) + self.overall_window - now

    def _record(self, conn, key: str, now: float, counted: bool) -> None:
        if conn.dialect.name == "postgresql":  # a lost count is harmless: no WAL flush for it
            conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
        conn.execute(_INSERT, {"scope": self.scope, "client": key, "at": now, "counted": counted})
        if now - self._pruned >= self.PRUNE_EVERY:
            self._pruned = now
            horizon = now - max(self.client_window, self.overall_window)
            conn.execute(_PRUNE, {"scope": self.scope, "until": horizon})

    def _writing(self):
        # SQLite: take the write lock up front (a read that later writes could otherwise fail
        # busy), so processes take turns and counts are exact. PostgreSQL: a plain transaction,
        # not the writers' advisory lock (db.py): a count may pass a limit by a few, never queue
        # behind audit appends.
        if self.engine.dialect.name == "sqlite":
            return immediate(self.engine).begin()
        return self.engine.begin()

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
        with self.engine.connect() as conn:
            self._refuse(self._client_wait(conn, self._key(client), now))

    def failure(self, client: str | None) -> None:
        """Count a failed look-up; raise RateLimited if everyone together failed too often lately
        (the failure is then counted for this client only, so the overall count stays bounded)."""
        now = self._t()
        with self._writing() as conn:
            wait = self._overall_wait(conn, now)
            self._record(conn, self._key(client), now, counted=wait is None)
        self._refuse(wait)

    def check(self, client: str | None) -> None:
        """Raise RateLimited if this client, or everyone together, failed too often lately."""
        now = self._t()
        with self.engine.connect() as conn:
            self._refuse(self._overall_wait(conn, now), self._client_wait(conn, self._key(client), now))

    def failed(self, client: str | None) -> None:
        now = self._t()
        with self._writing() as conn:
            self._record(conn, self._key(client), now, counted=True)


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
