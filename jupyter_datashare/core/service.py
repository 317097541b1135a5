"""The core's one object: the database, the store, the keyring, the audit log, the clock and the settings.

The feature modules (``datasets``, ``links``, ``reads``) are functions taking a ``DataShare``;
the HTTP handlers, the CLI and the notebook API all go through them.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import keyring, reads
from .audit import AuditLog
from .clients import TrustedProxies
from .clock import Clock
from .db import make_engine, migrate, reading
from .errors import DataShareError
from .models import AuditCheckpoint
from .ratelimit import FailureLimiter, Repeats, counting_engine
from .settings import Settings
from .signing import load_or_create_key
from .store import BlobStore


def _has_checkpoints(engine) -> bool:
    """Checkpoints signed before: then a missing signing key must be restored, not replaced."""
    with reading(engine) as session:
        return session.scalar(select(AuditCheckpoint.size).limit(1)) is not None


class DataShare:
    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        os.makedirs(settings.data_dir, mode=0o700, exist_ok=True)
        self.engine = make_engine(settings.db_url, settings.db_busy_timeout_ms)
        migrate(self.engine)
        self.store = BlobStore(settings.store_dir)
        self.keyring = keyring.Keyring(self.engine, settings.data_dir, settings.master_key, settings.master_key_file)
        self.audit = AuditLog(
            self.engine,
            load_or_create_key(settings.data_dir, settings.signing_key_file, create=not _has_checkpoints(self.engine)),
            self.clock,
            checkpoint_every=settings.checkpoint_every,
            checkpoint_seconds=settings.checkpoint_seconds,
        )
        self.trusted_proxies = TrustedProxies(settings.trusted_proxies)
        # Limits count in the database, shared by every process on it (see ratelimit.py).
        self.counts_engine = counting_engine(self.engine, settings.db_busy_timeout_ms)
        self.limiter = FailureLimiter(
            self.counts_engine,
            self.clock,
            "lookup",
            per_client=settings.failed_lookups_per_client,
            client_window=settings.failed_lookups_client_window,
            overall=settings.failed_lookups_overall,
            overall_window=settings.failed_lookups_overall_window,
        )
        # Denied downloads: each used to write its own fsync'd event, so anonymous floods were
        # unbounded durable writes. Three times the look-up budget: a reader may try a few files.
        self.denied_reads = FailureLimiter(
            self.counts_engine,
            self.clock,
            "denied",
            per_client=settings.failed_lookups_per_client * 3,
            client_window=settings.failed_lookups_client_window,
            overall=settings.failed_lookups_overall,
            overall_window=settings.failed_lookups_overall_window,
        )
        self.denial_repeats = Repeats(self.counts_engine, self.clock, window=settings.failed_lookups_client_window)
        # A flood of access requests from one address is refused like failed look-ups.
        self.request_limiter = FailureLimiter(
            self.counts_engine,
            self.clock,
            "request",
            per_client=settings.requests_per_client,
            client_window=settings.requests_client_window,
            overall=max(settings.requests_per_client * 100, 1000),
            overall_window=settings.requests_client_window,
        )
        # Datasets that should be encrypted and are not entirely yet (an older store, a crash).
        keyring.seal_pending(self)

    def now(self):
        return self.clock.now()

    def close(self) -> None:
        if hasattr(self, "denial_repeats"):
            try:
                reads.record_pending_denials(self)  # a count of denied repeats is never lost at shutdown
            except (DataShareError, SQLAlchemyError):
                # The database cannot be written: the counts stay in it for the next record.
                pass
        if getattr(self, "counts_engine", self.engine) is not self.engine:
            self.counts_engine.dispose()
        self.engine.dispose()
