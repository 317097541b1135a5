"""restricted data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:09:56.396380
"""
from alembic import op
import sqlalchemy as sa
import jupyter_datashare.core.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('institution', sa.String(length=300), nullable=False),
    sa.Column('orcid', sa.String(length=40), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('intended_use', sa.JSON(), nullable=False),
    sa.Column('commercial', sa.Boolean(), nullable=False),
    sa.Column('agreement_sha256', sa.String(length=64), nullable=False),
    sa.Column('requested_days', sa.Integer(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('submitted_by', sa.String(length=200), nullable=True),
    sa.Column('status_secret_hash', sa.String(length=64), nullable=False),
    sa.Column('grant_secret_hash', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.Column('decided_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('erased_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('reminded_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grant_secret_hash'),
    sa.UniqueConstraint('status_secret_hash')
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_status'), ['status'], unique=False)

    op.create_table('committee_members',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('added_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.Column('removed_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_members_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['committee_members.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'member_id')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_request_id'), ['request_id'], unique=False)

    op.create_table('grants',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', jupyter_datashare.core.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=200), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('expiry_recorded', sa.Boolean(), nullable=False),
    sa.Column('renewal_requested_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('expiry_warned_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.Column('use_count', sa.Integer(), nullable=False),
    sa.Column('last_used_at', jupyter_datashare.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_dataset_id'), ['dataset_id'], unique=False)

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        # Defaults let datasets shared before this revision upgrade in place.
        batch_op.add_column(sa.Column('required_approvals', sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column('decision_rule', sa.String(length=20), nullable=False, server_default="veto"))
        batch_op.add_column(sa.Column('use_conditions', sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column('agreement', sa.Text(), nullable=False, server_default=""))



def downgrade() -> None:
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_column('agreement')
        batch_op.drop_column('use_conditions')
        batch_op.drop_column('decision_rule')
        batch_op.drop_column('required_approvals')

    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grants_dataset_id'))

    op.drop_table('grants')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_request_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_members_dataset_id'))

    op.drop_table('committee_members')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_status'))
        batch_op.drop_index(batch_op.f('ix_access_requests_dataset_id'))

    op.drop_table('access_requests')
