"""The precinct and policy version of each case's referral on `cases`, for program reports broken
down by them (`GET /v1/reports/funnel?by=`).

Both come from `referral.accepted`, which assessment does not keep: only its inbox id is stored,
and cases opened before this revision recorded neither in their `CaseOpened` event. So there is
nothing to backfill them from inside assessment; such rows keep null (reported as an unknown
precinct or policy version), and a rebuild of the read models from the event store gives the same.

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
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("precinct", sa.String(100)))
        table.add_column(sa.Column("policy_version", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as table:
        for column in ("policy_version", "precinct"):
            table.drop_column(column)
