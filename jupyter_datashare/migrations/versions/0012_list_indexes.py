"""indexes for keyset pages of the lists: datasets, review links, access requests, grants, and the
committee seats of one identity

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_datasets_owner_created", "datasets", ["owner", "created_at", "id"]),
    ("ix_review_links_dataset_created", "review_links", ["dataset_id", "created_at", "id"]),
    ("ix_access_requests_dataset_submitted", "access_requests", ["dataset_id", "submitted_at", "id"]),
    ("ix_access_requests_submitted", "access_requests", ["submitted_at", "id"]),
    ("ix_grants_dataset_issued", "grants", ["dataset_id", "issued_at", "id"]),
    ("ix_committee_members_username", "committee_members", ["username"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
