"""failed attempts: the counts of the rate limits, shared by every process on the database

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_failed_attempts_client", "failed_attempts", ["scope", "client", "at"])
    op.create_index("ix_failed_attempts_overall", "failed_attempts", ["scope", "at", "counted"])


def downgrade() -> None:
    op.drop_index("ix_failed_attempts_overall", table_name="failed_attempts")
    op.drop_index("ix_failed_attempts_client", table_name="failed_attempts")
    op.drop_table("failed_attempts")
