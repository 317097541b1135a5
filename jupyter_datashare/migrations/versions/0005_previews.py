"""table previews

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("version_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview", sa.JSON(), nullable=True))
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_rows_public", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("preview_rows_public")
    with op.batch_alter_table("version_files", schema=None) as batch_op:
        batch_op.drop_column("preview")
