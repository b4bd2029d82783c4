"""Platform tables and the police status view of referrals.

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
        "referral_status",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("pathway", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessment_due_by", sa.DateTime(timezone=True)),
        sa.Column("assessed_on_time", sa.Boolean),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_referral_status_agency_case", "referral_status", ["agency", "case_number"])


def downgrade() -> None:
    op.drop_table("referral_status")
    drop_platform_tables_v1()
