"""Every migration runs on a store made at each earlier schema, with rows in every table.

The rows are written with raw SQL at that schema (the code of that time is gone), filling
every column the table had then; the store is then opened by today's core, which must list
the datasets, read their files and verify the audit log.
"""

import hashlib
import io
import json
import os
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from sqlalchemy import inspect, text

from jupyter_datashare.core import crypto, datasets, keyring, policy, reads, signing
from jupyter_datashare.core.audit import FIELDS, GENESIS, chain
from jupyter_datashare.core.audit_verify import mark_key, mark_mac
from jupyter_datashare.core.clock import ManualClock
from jupyter_datashare.core.db import MIGRATIONS, UpgradeFailed, make_engine, migrate
from jupyter_datashare.core.models import Base
from jupyter_datashare.core.service import DataShare
from jupyter_datashare.core.settings import Settings

OWNER = "ada-owner"
T = "2026-01-02 03:04:05.000000"  # how SQLAlchemy keeps a naive UTC DateTime in SQLite
OPEN_BYTES = b"id,value\n1,10\n2,20\n"
RESTRICTED_BYTES = b"subject,age\ns1,44\ns2,51\n" * 50


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


REVISIONS = [s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()][::-1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upgrade_to(engine, revision: str) -> None:
    cfg = _config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def audit_rows(key) -> tuple[list[dict], dict, list[dict]]:
    """Three chained events, the head row and a signed checkpoint over them."""
    events, prev = [], GENESIS
    specs = [
        ("dataset.shared", OWNER, "ok", "ds-open", 1, None, None, None, "cli", None, None, {"level": "open", "files": 1}),
        ("dataset.shared", OWNER, "ok", "ds-restr", 1, None, None, None, "cli", None, None, {"level": "restricted"}),
        ("grant.used", "grant:grt-1", "allowed", "ds-restr", 1, "ages.csv", "0-9", "access grant", "10.0.0.7",
         "lnk-1", "grt-1", {"note": "ünïcode"}),
    ]  # fmt: skip
    for seq, spec in enumerate(specs, 1):
        row = dict(zip(FIELDS, (seq, f"2026-01-02T03:04:0{seq}.000000Z", *spec)))
        row["entry_hash"] = prev = chain(prev, row)
        events.append(row)
    head = {"id": 1, "size": 3, "head_hash": prev, "checkpointed_size": 3}
    note = signing.sign_checkpoint(key, signing.Checkpoint(signing.origin_for(key), 3, prev, "2026-01-02T03:04:09Z"))
    checkpoint = {"size": 3, "head_hash": prev, "created_at": "2026-01-02T03:04:09Z", "note": note}
    for e in events:
        e["details"] = json.dumps(e["details"])
    return events, head, [checkpoint]


def verified_rows(key, head: dict) -> list[dict]:
    """The mark of a verification that found the three events intact (its MAC by today's code)."""
    at = "2026-01-02T03:04:10.000000Z"
    mac = mark_mac(mark_key(key), signing.origin_for(key), 3, head["head_hash"], at, 0)
    return [{"size": 3, "head_hash": head["head_hash"], "verified_at": at, "from_size": 0, "mac": mac}]


def fixture_rows(data_dir, master: bytes, data_key: bytes) -> dict[str, list[dict]]:
    """A value for every column of every table any revision has had (newest names)."""
    key = signing.load_or_create_key(data_dir)
    events, head, checkpoints = audit_rows(key)
    dataset = {
        "owner": OWNER, "source_path": "data", "include_hidden": 0, "description": "measured in 2025",
        "creators": json.dumps([{"name": "Ada Example", "orcid": "0000-0002-1825-0097"}]),
        "keywords": json.dumps(["field", "soil"]), "license_id": "CC-BY-4.0", "license_text": None,
        "related_publication": "https://doi.org/10.1234/x", "embargo_until": None, "after_embargo": None,
        "embargo_lift_recorded": 0, "latest_version": 1, "created_at": T, "updated_at": T, "withdrawn_at": None,
        "withdrawal_reason": None, "required_approvals": 2, "decision_rule": "majority",
        "use_conditions": json.dumps(["HMB"]), "agreement": "Do not re-identify anyone.",
        "provenance": "sensor export, cleaned", "rights_declaration": json.dumps({"consent": True}),
        "preview_rows_public": 1,
    }  # fmt: skip
    return {
        "datasets": [
            {**dataset, "id": "ds-open", "title": "Open data", "access_level": "open"},
            {**dataset, "id": "ds-restr", "title": "Restricted data", "access_level": "restricted"},
        ],
        "dataset_versions": [
            {"id": 1, "dataset_id": "ds-open", "number": 1, "created_at": T, "file_count": 1, "total_size": len(OPEN_BYTES)},
            {"id": 2, "dataset_id": "ds-restr", "number": 1, "created_at": T, "file_count": 1,
             "total_size": len(RESTRICTED_BYTES)},
        ],  # fmt: skip
        "version_files": [
            {"id": 1, "version_id": 1, "path": "table.csv", "size": len(OPEN_BYTES), "sha256": sha(OPEN_BYTES),
             "preview": json.dumps({"kind": "table", "columns": ["id", "value"]}), "damaged_at": None, "damage": None},
            {"id": 2, "version_id": 2, "path": "ages.csv", "size": len(RESTRICTED_BYTES),
             "sha256": sha(RESTRICTED_BYTES), "preview": None, "damaged_at": None, "damage": None},
        ],  # fmt: skip
        "review_links": [
            {"id": "lnk-1", "dataset_id": "ds-restr", "version_number": 1, "label": "Reviewer 1", "secret_hash": "a" * 64,
             "anonymous": 1, "allow_restricted": 1, "created_by": OWNER, "created_at": T,
             "expires_at": "2099-01-01 00:00:00.000000", "revoked_at": None, "use_count": 3, "last_used_at": T},
        ],  # fmt: skip
        "audit_events": events,
        "audit_head": [head],
        "audit_checkpoints": checkpoints,
        "audit_verified": verified_rows(key, head),
        "dataset_keys": [
            {"dataset_id": "ds-restr", "wrapped_key": aes_key_wrap(master, data_key),
             "master_key_id": keyring.master_key_id(master), "created_at": T, "sealed_at": T, "destroyed_at": None},
        ],  # fmt: skip
        "committee_members": [
            {"id": "mem-1", "dataset_id": "ds-restr", "username": "bob", "name": "Bob Member", "email": "bob@example.org",
             "secret_hash": None, "added_at": T, "removed_at": None},
            {"id": "mem-2", "dataset_id": "ds-restr", "username": None, "name": "Eve External", "email": "eve@example.org",
             "secret_hash": "b" * 64, "added_at": T, "removed_at": None},
        ],  # fmt: skip
        "access_requests": [
            {"id": "req-1", "dataset_id": "ds-restr", "status": "approved", "name": "Rita Requester",
             "email": "rita@example.org", "institution": "Example U", "orcid": "0000-0002-1825-0097",
             "purpose": "replication", "intended_use": json.dumps(["HMB"]), "commercial": 0,
             "agreement_sha256": "c" * 64, "requested_days": 90, "flags": json.dumps([]), "submitted_by": None,
             "status_secret_hash": "d" * 64, "grant_secret_hash": "e" * 64, "submitted_at": T, "decided_at": T,
             "reason": None, "erased_at": None, "reminded_at": T},
        ],  # fmt: skip
        "decisions": [
            {"id": 1, "request_id": "req-1", "member_id": "mem-1", "decision": "approve", "reason": "fine",
             "decided_at": T},
            {"id": 2, "request_id": "req-1", "member_id": "mem-2", "decision": "approve", "reason": None,
             "decided_at": T},
        ],  # fmt: skip
        "grants": [
            {"id": "grt-1", "request_id": "req-1", "dataset_id": "ds-restr", "secret_hash": "e" * 64, "issued_at": T,
             "expires_at": "2099-01-01 00:00:00.000000", "revoked_at": None, "revoked_by": None, "revoke_reason": None,
             "expiry_recorded": 0, "renewal_requested_at": None, "expiry_warned_at": None, "use_count": 1,
             "last_used_at": T},
        ],  # fmt: skip
        "failed_attempts": [  # seconds since the epoch: 2026-01-02T03:04:05Z and a little later
            {"id": 1, "scope": "lookup", "client": "10.0.0.7", "at": 1767323045.0, "counted": 1},
            {"id": 2, "scope": "denied", "client": "2001:db8:1:2::/64", "at": 1767323046.25, "counted": 0},
        ],
        "jobs": [  # a finished share, kept for its owner to read, in another process
            {"id": "job-1", "kind": "share", "started_by": "user:ada", "state": "done", "files_done": 1,
             "files_total": 1, "bytes_done": len(OPEN_BYTES), "bytes_total": len(OPEN_BYTES), "started": T,
             "finished": T, "result": json.dumps({"dataset_id": "ds-open", "version": 1}), "error": None,
             "links_made": 0, "cancel_requested": 0, "instance": "proc-1", "host": "node-a", "pid": 4242,
             "heartbeat_at": 1767323045.5},
        ],  # fmt: skip
        "api_tokens": [
            {"id": "tok-1", "username": "ada", "label": "laptop", "secret_hash": "f" * 64, "created_by": "admin:root",
             "created_at": T, "expires_at": None, "revoked_at": None, "last_used_at": T},
        ],  # fmt: skip
        "moved_stores": [  # a laptop's store moved into the service, its old chain of one event
            {"id": "mv-1", "owner": "ada", "moved_at": T, "event_seq": 1, "old_size": 1, "old_head_hash": "a" * 64,
             "old_public_key": "b" * 64, "old_checkpoint": None, "datasets": json.dumps(["ds-open"])},
        ],  # fmt: skip
        "moved_audit_events": [
            {"store_id": "mv-1", "seq": 1, "ts": "2026-01-02T03:04:05.000000Z", "actor": "ada",
             "action": "dataset.shared", "outcome": "ok", "dataset_id": "ds-open", "version": 1, "file": None,
             "byte_range": None, "reason": None, "client": "cli", "link_id": None, "grant_id": None,
             "details": None, "entry_hash": "a" * 64},
        ],  # fmt: skip
    }


def write_files(data_dir, data_key: bytes, encrypted: bool) -> None:
    store = data_dir / "store"
    blob = store / "blobs" / sha(OPEN_BYTES)[:2] / sha(OPEN_BYTES)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(OPEN_BYTES)
    if encrypted:  # stores from 0002 on keep non-open files encrypted
        target = store / "encrypted" / "ds-restr" / sha(RESTRICTED_BYTES)
        target.parent.mkdir(parents=True)
        with open(target, "wb") as out:
            crypto.encrypt(data_key, io.BytesIO(RESTRICTED_BYTES), out)
    else:  # older stores kept them plain: the first start encrypts them
        plain = store / "blobs" / sha(RESTRICTED_BYTES)[:2] / sha(RESTRICTED_BYTES)
        plain.parent.mkdir(parents=True, exist_ok=True)
        plain.write_bytes(RESTRICTED_BYTES)


def make_store(tmp_path, revision: str):
    """A data dir whose database is at ``revision`` with a row in every table it has; returns
    (data_dir, {table: [rows as inserted]})."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    master, data_key = os.urandom(32), os.urandom(32)
    (data_dir / keyring.MASTER_KEY_FILE).write_bytes(master)
    os.chmod(data_dir / keyring.MASTER_KEY_FILE, 0o600)
    engine = make_engine(f"sqlite:///{data_dir / 'datashare.sqlite'}")
    upgrade_to(engine, revision)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    everything = fixture_rows(data_dir, master, data_key)
    missing = sorted(tables - set(everything))
    assert not missing, f"add rows for the tables {missing} to fixture_rows"
    inserted = {}
    with engine.begin() as conn:
        # Parents before children, as the foreign keys (enforced here) require.
        for table in [t.name for t in Base.metadata.sorted_tables if t.name in tables]:
            columns = [c["name"] for c in inspect(conn).get_columns(table)]
            rows = everything[table]
            unset = [c for c in columns if c not in rows[0]]
            assert not unset, f"fixture_rows: give the columns {unset} of {table} a value"
            rows = [{c: row[c] for c in columns} for row in rows]
            names = ", ".join(columns)
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + c for c in columns)})"), rows)
            inserted[table] = rows
    engine.dispose()
    write_files(data_dir, data_key, encrypted="dataset_keys" in tables)
    return data_dir, inserted


def open_core(tmp_path, data_dir) -> DataShare:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))
    return DataShare(Settings(root_dir=str(root), data_dir=str(data_dir), owner=OWNER), clock)


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_store_made_at_each_revision_upgrades_with_all_its_rows(tmp_path, revision):
    data_dir, inserted = make_store(tmp_path, revision)
    engine = make_engine(f"sqlite:///{data_dir / 'datashare.sqlite'}")
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # enforced again after the upgrade
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert MigrationContext.configure(conn).get_current_revision() == REVISIONS[-1]
        for table, rows in inserted.items():
            columns = list(rows[0])
            kept = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")).all()
            assert [tuple(r) for r in kept] == [tuple(r.values()) for r in rows], table
    engine.dispose()

    core = open_core(tmp_path, data_dir)
    try:
        # The app works on it: lists both datasets, serves the open file to anyone and the
        # restricted one (decrypted) to its owner, and the audit log still verifies.
        assert {d.id for d in datasets.list_owned(core, OWNER)} == {"ds-open", "ds-restr"}
        public = policy.Principal("public", "anonymous")
        open_ds, restr_ds = datasets.load(core, "ds-open"), datasets.load(core, "ds-restr")
        assert b"".join(reads.open_file(core, open_ds, public, "table.csv").chunks()) == OPEN_BYTES
        owner = policy.Principal("owner", OWNER)
        read = reads.open_file(core, restr_ds, owner, "ages.csv")
        assert read.encrypted and b"".join(read.chunks()) == RESTRICTED_BYTES
        with pytest.raises(Exception, match="restricted"):
            reads.open_file(core, restr_ds, public, "ages.csv")
        report = core.audit.verify()
        assert report.ok, report.problem
        assert report.events >= 4 and report.checkpoints >= 1
    finally:
        core.close()


def test_migrations_build_exactly_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    migrate(engine)
    migrate(engine)  # idempotent: an existing store upgrades in place
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_failed_upgrade_changes_nothing_and_says_what_to_do(tmp_path):
    data_dir, inserted = make_store(tmp_path, "0004")
    db = data_dir / "datashare.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # in the way of 0005, which rebuilds the datasets table
        conn.exec_driver_sql("CREATE TABLE _alembic_tmp_datasets (x INTEGER)")
    with pytest.raises(UpgradeFailed) as failed:
        migrate(engine)
    message = str(failed.value)
    assert str(db) in message and "0004" in message and REVISIONS[-1] in message
    assert "back up" in message.lower() and "_alembic_tmp_datasets" in message
    with engine.connect() as conn:  # as it was: the old revision, every row, foreign keys on
        assert MigrationContext.configure(conn).get_current_revision() == "0004"
        assert conn.execute(text("SELECT count(*) FROM datasets")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM version_files")).scalar() == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
