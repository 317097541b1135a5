"""damaged files: what the store check found wrong with a file's stored copy

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import jupyter_datashare.core.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("version_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("damaged_at", jupyter_datashare.core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("damage", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("version_files", schema=None) as batch_op:
        batch_op.drop_column("damage")
        batch_op.drop_column("damaged_at")
