"""Reminders of the assessment's due time on `cases`: when they will be, the last one received,
and whether the case is due soon (reminded for its current due time, awaiting assessment).

Rows from before this revision have no reminders (their referrals carried none) and are not due
soon; a rebuild of the read models from the event store gives the same.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("assessment_reminders_at", sa.JSON))
        table.add_column(sa.Column("last_reminder_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("reminded_days_before", sa.Integer))
        table.add_column(sa.Column("due_soon", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cases") as table:
        for column in ("due_soon", "reminded_days_before", "last_reminder_at", "assessment_reminders_at"):
            table.drop_column(column)
