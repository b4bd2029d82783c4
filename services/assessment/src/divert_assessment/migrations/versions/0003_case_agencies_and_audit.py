"""Owning case agencies on `cases`, and the audit trail of reads (`audit_log`).

Cases opened before this revision get the agency serving their jurisdiction in this deployment's
`DIVERT_CASE_AGENCIES` (the shipped defaults when unset) as it is when the migration runs; cases
of a jurisdiction it does not list stay without an agency, visible to no case manager. Their
stored `CaseOpened` events carry no agency, so a rebuild of the read models from the event store
must apply the same mapping to them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from divert_assessment.config import AssessmentSettings
from divert_platform.audit import create_audit_table_v1, drop_audit_table_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_cases = sa.table("cases", sa.column("jurisdiction", sa.String), sa.column("agency", sa.String))


def upgrade() -> None:
    op.add_column("cases", sa.Column("agency", sa.String(64)))
    op.create_index("ix_cases_agency_referred", "cases", ["agency", "referred_at"])
    for jurisdiction, agency in AssessmentSettings().case_agencies.items():
        op.execute(sa.update(_cases).where(_cases.c.jurisdiction == jurisdiction).values(agency=agency))
    create_audit_table_v1()


def downgrade() -> None:
    drop_audit_table_v1()
    op.drop_index("ix_cases_agency_referred", table_name="cases")
    with op.batch_alter_table("cases") as table:
        table.drop_column("agency")
