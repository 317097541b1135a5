"""Limits on failed secret look-ups, denied reads and access requests, per client and over all clients.

Capability secrets have no account to lock, so failures are counted per client and globally
(OWASP; PyPI does the same for tokens). A client is an IPv4 address or an IPv6 /64
(``clients.client_key``). The counts live in the database (``failed_attempts``), so every process
of a deployment (servers behind one proxy, the CLI, notebooks) spends one budget: a second
process never doubles an attacker's. Successes write nothing; each failure inserts one row; old
rows are pruned, so the table holds at most the failures of the last window (and the repeats of
denials that no audit event carries yet: ``Repeats``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from typing import Callable, TypeVar

from sqlalchemy import and_, bindparam, delete, event, func, insert, select, text
from sqlalchemy.engine import Engine

from .clients import client_key
from .clock import Clock
from .db import immediate, make_engine, reader
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
T = TypeVar("T")


def _counting(engine: Engine):
    """A transaction that writes counts. SQLite: it takes the write lock up front (a read that
    later writes could otherwise fail busy), so processes take turns and counts are exact.
    PostgreSQL: a plain transaction, not the writers' advisory lock (db.py): a count may pass a
    limit by a few, never queue behind audit appends."""
    if engine.dialect.name == "sqlite":
        return immediate(engine).begin()
    return engine.begin()


def _unsynced(conn) -> None:
    if conn.dialect.name == "postgresql":  # a lost count is harmless: no WAL flush for it
        conn.execute(text("SET LOCAL synchronous_commit TO OFF"))


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
        _unsynced(conn)
        conn.execute(_INSERT, {"scope": self.scope, "client": key, "at": now, "counted": counted})
        if now - self._pruned >= self.PRUNE_EVERY:
            self._pruned = now
            horizon = now - max(self.client_window, self.overall_window)
            conn.execute(_PRUNE, {"scope": self.scope, "until": horizon})

    def _writing(self):
        return _counting(self.engine)

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
        with reader(self.engine).connect() as conn:
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
        with reader(self.engine).connect() as conn:
            self._refuse(self._overall_wait(conn, now), self._client_wait(conn, self._key(client), now))

    def failed(self, client: str | None, also: Callable[..., T] | None = None) -> T | None:
        """Count a failure; ``also(connection)`` runs in the same (cheap) transaction and its
        answer is returned: one commit for both (``Repeats.repeat``)."""
        now = self._t()
        with self._writing() as conn:
            self._record(conn, self._key(client), now, counted=True)
            return also(conn) if also is not None else None


REPEAT_SCOPE = "repeat"
_KEY_RECORDED = select(func.max(_T.c.at)).where(
    _T.c.scope == REPEAT_SCOPE, _T.c.client == bindparam("client"), _T.c.counted)
_TAKE_REPEATS = delete(_T).where(_T.c.scope == REPEAT_SCOPE, _T.c.client == bindparam("client"), ~_T.c.counted)
_FORGET_RECORDS = delete(_T).where(_T.c.scope == REPEAT_SCOPE, _T.c.client == bindparam("client"), _T.c.counted)
_PRUNE_RECORDS = delete(_T).where(_T.c.scope == REPEAT_SCOPE, _T.c.counted, _T.c.at <= bindparam("until"))
_PENDING = select(_T.c.client).where(_T.c.scope == REPEAT_SCOPE, ~_T.c.counted).distinct()


class Repeats:
    """Collapses repeats of the same thing (a client denied the same file) into one record per
    ``window`` seconds that carries how many were not recorded on their own since the last one.

    Kept in the database (``failed_attempts``, scope "repeat"), so every process on it collapses
    into one record, and a repeat counted by a process killed since is still in the next one.
    For a key (its SHA-256 in ``client``): a *record* row (``counted``) says when its event was
    last written, and one *repeat* row per repeat since. A repeat is one row in a cheap, unsynced
    commit (the limiter's own, see ``FailureLimiter.failed``), never an fsync'd event; the event
    that records a key takes its repeat rows in its own transaction (``take``), so a repeat is
    counted exactly once, whichever process counted it. Repeat rows stay until a record takes
    them: the next one of the key, in any process, or the shutdown of a process that saw the key.
    """

    MAX_KEYS = 10_000  # keys remembered for the shutdown record (a key's rows hold only its hash)
    PRUNE_EVERY = 60.0

    def __init__(self, engine: Engine, clock: Clock, window: float = 300.0):
        self.engine, self.clock, self.window = engine, clock, window
        self._known: OrderedDict[str, tuple] = OrderedDict()  # hash -> key
        self._lock = threading.Lock()
        self._pruned = -math.inf

    def _hash(self, key: tuple) -> str:
        digest = hashlib.sha256(json.dumps(list(key), default=str).encode()).hexdigest()
        with self._lock:
            self._known.pop(digest, None)
            self._known[digest] = key
            while len(self._known) > self.MAX_KEYS:
                self._known.popitem(last=False)
        return digest

    def _t(self) -> float:
        return self.clock.now().timestamp()

    def _recorded_lately(self, conn, digest: str, now: float) -> bool:
        last = conn.execute(_KEY_RECORDED, {"client": digest}).scalar()
        return last is not None and now - last < self.window

    def _add_repeat(self, conn, digest: str, now: float) -> None:
        conn.execute(_INSERT, {"scope": REPEAT_SCOPE, "client": digest, "at": now, "counted": False})

    def repeat(self, conn, key: tuple) -> bool:
        """In a counting transaction (``FailureLimiter.failed``'s): True if ``key`` was recorded
        less than ``window`` ago (this repeat is counted, nothing else to write); False: record
        it now (``take``)."""
        digest, now = self._hash(key), self._t()
        if now - self._pruned >= self.PRUNE_EVERY:  # records no window can see any more
            self._pruned = now
            conn.execute(_PRUNE_RECORDS, {"until": now - self.window})
        if not self._recorded_lately(conn, digest, now):
            return False
        self._add_repeat(conn, digest, now)
        return True

    def take(self, session, key: tuple) -> int | None:
        """In the transaction that writes ``key``'s event: the repeats it carries (0 the first
        time), which are then consumed, and ``key`` is recorded as of now. None if another
        process recorded it meanwhile: then this one is counted as a repeat, and no event is due."""
        digest, now = self._hash(key), self._t()
        conn = session.connection()
        if self._recorded_lately(conn, digest, now):
            self._add_repeat(conn, digest, now)
            return None
        repeats = conn.execute(_TAKE_REPEATS, {"client": digest}).rowcount
        conn.execute(_FORGET_RECORDS, {"client": digest})
        conn.execute(_INSERT, {"scope": REPEAT_SCOPE, "client": digest, "at": now, "counted": True})
        return repeats

    def count(self, key: tuple) -> None:
        """A repeat that is not recorded now (it was refused earlier); it shows in the next record."""
        digest, now = self._hash(key), self._t()
        with _counting(self.engine) as conn:
            _unsynced(conn)
            self._add_repeat(conn, digest, now)

    def pending(self) -> bool:
        """Whether a key this process saw has repeats no record carries yet."""
        if not self._known:
            return False  # this process saw no denial: nothing to ask the database
        with reader(self.engine).connect() as conn:
            waiting = set(conn.execute(_PENDING).scalars())
        with self._lock:
            return any(digest in waiting for digest in self._known)

    def drain(self, session) -> list[tuple[tuple, int]]:
        """In the caller's (audit) transaction: every key this process saw that has repeats not
        yet recorded, and how many; they are consumed (any process's, for those keys)."""
        conn = session.connection()
        waiting = set(conn.execute(_PENDING).scalars())
        with self._lock:
            known = [(digest, key) for digest, key in self._known.items() if digest in waiting]
        out = []
        for digest, key in known:
            repeats = conn.execute(_TAKE_REPEATS, {"client": digest}).rowcount
            if repeats:
                out.append((key, repeats))
        return out
