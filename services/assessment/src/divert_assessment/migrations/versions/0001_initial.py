"""Platform tables and the case-agency view of cases.

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
        "cases",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("pathway", sa.String(32), nullable=False),
        sa.Column("rms_agency", sa.Text, nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessment_due_by", sa.DateTime(timezone=True)),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("phone", sa.Text),
        sa.Column("rms_person_id", sa.Text),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("case_manager_id", sa.String(64)),
        sa.Column("on_time", sa.Boolean),
        sa.Column("needs", sa.JSON),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cases_status_due", "cases", ["status", "assessment_due_by"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_due", table_name="cases")
    op.drop_table("cases")
    drop_platform_tables_v1()
