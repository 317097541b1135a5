"""dataset keys: the wrapped data key of each encrypted dataset

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import jupyter_datashare.core.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_keys',
    sa.Column('dataset_id', sa.String(length=32), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=64), nullable=True),
    sa.Column('master_key_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.Column('sealed_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('destroyed_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('dataset_id')
    )
    # Files of datasets that are not open are encrypted on the next start (keyring.seal_pending).


def downgrade() -> None:
    # Encrypted files cannot be read without their keys: decrypt nothing, refuse to lose them.
    raise RuntimeError("0002 cannot be downgraded: encrypted datasets would become unreadable")
