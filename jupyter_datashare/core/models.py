"""The database schema. Changes to it ship as Alembic migrations (``jupyter_datashare/migrations``)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no time zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Dataset(Base):
    __tablename__ = "datasets"
    # The owner's list, newest first (core/catalogue.py): one index range per page.
    __table_args__ = (Index("ix_datasets_owner_created", "owner", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(Text)
    include_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    creators: Mapped[list] = mapped_column(JSON, default=list)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    license_id: Mapped[str] = mapped_column(String(100))
    license_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    related_publication: Mapped[str | None] = mapped_column(Text, nullable=True)
    provenance: Mapped[str] = mapped_column(Text, default="")  # how the data was produced
    rights_declaration: Mapped[dict] = mapped_column(JSON, default=dict)
    access_level: Mapped[str] = mapped_column(String(20))
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    after_embargo: Mapped[str | None] = mapped_column(String(20), nullable=True)
    embargo_lift_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Restricted data: the committee's rule, the data use conditions and agreement.
    required_approvals: Mapped[int] = mapped_column(Integer, default=1)
    decision_rule: Mapped[str] = mapped_column(String(20), default="veto")
    use_conditions: Mapped[list] = mapped_column(JSON, default=list)
    agreement: Mapped[str] = mapped_column(Text, default="")
    # Restricted data shows schema and summary only; the owner may also show the first rows.
    preview_rows_public: Mapped[bool] = mapped_column(Boolean, default=False)

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.number"
    )


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    file_count: Mapped[int] = mapped_column(Integer)
    total_size: Mapped[int] = mapped_column(BigInteger)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    files: Mapped[list[VersionFile]] = relationship(
        back_populates="version", order_by="VersionFile.path"
    )


class VersionFile(Base):
    __tablename__ = "version_files"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    preview: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # core/previews.py
    # Set by the store check (core/store_check.py) when the stored copy fails its checksum or
    # authentication: a damaged file is never served.
    damaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    damage: Mapped[str | None] = mapped_column(Text, nullable=True)

    version: Mapped[DatasetVersion] = relationship(back_populates="files")


class ReviewLink(Base):
    __tablename__ = "review_links"
    __table_args__ = (Index("ix_review_links_dataset_created", "dataset_id", "created_at", "id"),)  # its pages

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
    # SHA-256 of the secret; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEvent(Base):
    """One row of the append-only log. ``entry_hash`` chains it to the row before."""

    __tablename__ = "audit_events"
    __table_args__ = (  # a page of one dataset's or one action's events, by seq, reads only that page
        Index("ix_audit_events_dataset_seq", "dataset_id", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_dataset_action_seq", "dataset_id", "action", "seq"),  # both filters at once
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    file: Mapped[str | None] = mapped_column(Text, nullable=True)
    byte_range: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    client: Mapped[str | None] = mapped_column(String(100), nullable=True)
    link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    grant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row: the size and hash of the log's tip, locked by every append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    checkpointed_size: Mapped[int] = mapped_column(Integer, default=0)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)


class AuditVerified(Base):
    """A verification that found events #1..``size`` intact with ``head_hash`` as the head; the
    next one starts there (core/audit_verify.py). ``mac`` is keyed by the signing key."""

    __tablename__ = "audit_verified"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[str] = mapped_column(String(40))
    from_size: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))


# -- restricted data: committees, requests, decisions, grants ---------------------------------


class CommitteeMember(Base):
    """A member of a dataset's data access committee: a Jupyter identity or an external person
    reached through a personal committee link (only its hash is kept)."""

    __tablename__ = "committee_members"
    __table_args__ = (Index("ix_committee_members_username", "username"),)  # the seats of one identity

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccessRequest(Base):
    """An outsider's request for a restricted dataset. Personal data lives here only, never in
    audit events (they name the request by id), so it can be erased without breaking the log."""

    __tablename__ = "access_requests"
    __table_args__ = (
        Index("ix_access_requests_dataset_submitted", "dataset_id", "submitted_at", "id"),  # one dataset's pages
        Index("ix_access_requests_submitted", "submitted_at", "id"),  # pages across many datasets
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    institution: Mapped[str] = mapped_column(String(300))
    orcid: Mapped[str | None] = mapped_column(String(40), nullable=True)
    purpose: Mapped[str] = mapped_column(Text)
    intended_use: Mapped[list] = mapped_column(JSON, default=list)
    commercial: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_sha256: Mapped[str] = mapped_column(String(64))
    requested_days: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status_secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("request_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("committee_members.id"))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Grant(Base):
    """Access issued when a request reaches its quorum. Its download secret is derived from the
    requester's status secret (core/grants.py); only hashes of either are stored."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_dataset_issued", "dataset_id", "issued_at", "id"),)  # a dataset's pages

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), unique=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    expiry_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    renewal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# -- limits shared by every process on the database ------------------------------------------


class FailedAttempt(Base):
    """One failed secret look-up, denied download or access request, counted by a limit
    (core/ratelimit.py). Rows older than the limit's windows are pruned."""

    __tablename__ = "failed_attempts"
    __table_args__ = (
        Index("ix_failed_attempts_client", "scope", "client", "at"),  # one client's recent failures
        Index("ix_failed_attempts_overall", "scope", "at", "counted"),  # everyone's, and pruning
    )

    # BIGINT on PostgreSQL (a flood may insert billions over the years); SQLite's rowid is 64-bit.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))  # which limit: lookup, denied, request
    client: Mapped[str] = mapped_column(String(100))  # ratelimit.client_key: an address or an IPv6 /64
    at: Mapped[float] = mapped_column(Double)  # seconds since the epoch, by the core's clock
    counted: Mapped[bool] = mapped_column(Boolean)  # towards the overall limit too


# -- background jobs, seen by every process on the database ----------------------------------


class JobRecord(Base):
    """A background share or new version (core/jobs.py): its progress and outcome, for whichever
    process its owner's poll reaches. Never a secret: new committee members' links stay in the
    memory of the process that ran the job."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # share, version
    started_by: Mapped[str] = mapped_column(Text)  # the only one who may see it ("user:<name>", "token")
    state: Mapped[str] = mapped_column(String(10))  # running, done, failed
    files_done: Mapped[int] = mapped_column(Integer)
    files_total: Mapped[int] = mapped_column(Integer)
    bytes_done: Mapped[int] = mapped_column(BigInteger)
    bytes_total: Mapped[int] = mapped_column(BigInteger)
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # e.g. {"dataset_id", "version"}
    error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    links_made: Mapped[int] = mapped_column(Integer, default=0)  # committee links its process holds
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The process that runs it: a random id made when its Jobs started, host and pid for messages.
    instance: Mapped[str] = mapped_column(String(40))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch: refreshed while it runs, the time it finished after that.
    heartbeat_at: Mapped[float] = mapped_column(Double, index=True)


# -- the always-on service's callers ---------------------------------------------------------


class ApiToken(Base):
    """A personal API token of the standalone service (core/api_tokens.py): who it speaks for,
    and only the SHA-256 of its secret. Issued by an administrator, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# -- local stores moved into the service (core/move_in.py) -------------------------------------


class MovedStore(Base):
    """One local store moved into the service by its owner: where its old audit chain ended (the
    service's own log records the same, in the event ``store.moved_in``), and the key that signed it."""

    __tablename__ = "moved_stores"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_seq: Mapped[int] = mapped_column(Integer)  # the service's event that recorded the move
    old_size: Mapped[int] = mapped_column(Integer)
    old_head_hash: Mapped[str] = mapped_column(String(64))
    old_public_key: Mapped[str] = mapped_column(String(64))  # hex, Ed25519
    old_checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)  # the newest signed note
    datasets: Mapped[list] = mapped_column(JSON, default=list)


class MovedAuditEvent(Base):
    """An event of a moved store's old audit chain, as it was: the chain still verifies."""

    __tablename__ = "moved_audit_events"

    store_id: Mapped[str] = mapped_column(ForeignKey("moved_stores.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    file: Mapped[str | None] = mapped_column(Text, nullable=True)
    byte_range: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    client: Mapped[str | None] = mapped_column(String(100), nullable=True)
    link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    grant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    entry_hash: Mapped[str] = mapped_column(String(64))
