"""moved_stores, moved_audit_events: local stores moved into the service, their old audit chains

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

from jupyter_datashare.core.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moved_stores",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("moved_at", UTCDateTime(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("old_size", sa.Integer(), nullable=False),
        sa.Column("old_head_hash", sa.String(length=64), nullable=False),
        sa.Column("old_public_key", sa.String(length=64), nullable=False),
        sa.Column("old_checkpoint", sa.Text(), nullable=True),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_moved_stores_owner", "moved_stores", ["owner"])
    op.create_table(
        "moved_audit_events",
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("byte_range", sa.String(length=60), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.Column("link_id", sa.String(length=32), nullable=True),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["moved_stores.id"]),
        sa.PrimaryKeyConstraint("store_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("moved_audit_events")
    op.drop_index("ix_moved_stores_owner", table_name="moved_stores")
    op.drop_table("moved_stores")
