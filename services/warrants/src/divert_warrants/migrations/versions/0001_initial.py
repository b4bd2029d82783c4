"""Platform tables and the warrant-request read model (one request per referral, at most).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from divert_platform.schema import create_platform_tables_v1, drop_platform_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "warrant_requests",
        sa.Column("warrant_request_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("assessment_due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        # The database, not only the handler, guarantees one request per referral: two
        # concurrent lapse notices cannot both insert.
        sa.UniqueConstraint("referral_id", name="uq_warrant_requests_referral_id"),
    )
    op.create_index("ix_warrant_requests_requested_at", "warrant_requests", ["requested_at"])


def downgrade() -> None:
    op.drop_table("warrant_requests")
    drop_platform_tables_v1()
