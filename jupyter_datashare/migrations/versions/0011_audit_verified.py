"""audit_verified: where the last verification of the audit log got to; audit pages by seq

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_verified",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.String(length=40), nullable=False),
        sa.Column("from_size", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    # One dataset's (or action's) newest events by seq, without a sort of all of them: the
    # single-column indexes leave PostgreSQL to sort every matching row (SQLite appends the rowid).
    op.create_index("ix_audit_events_dataset_seq", "audit_events", ["dataset_id", "seq"])
    op.create_index("ix_audit_events_action_seq", "audit_events", ["action", "seq"])
    # Both filters: with only the two above, SQLite walks one action's events for one dataset's.
    op.create_index("ix_audit_events_dataset_action_seq", "audit_events", ["dataset_id", "action", "seq"])
    op.drop_index("ix_audit_events_dataset_id", table_name="audit_events")
    op.drop_index("ix_audit_events_action", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_dataset_id", "audit_events", ["dataset_id"])
    op.drop_index("ix_audit_events_dataset_action_seq", table_name="audit_events")
    op.drop_index("ix_audit_events_action_seq", table_name="audit_events")
    op.drop_index("ix_audit_events_dataset_seq", table_name="audit_events")
    op.drop_table("audit_verified")
