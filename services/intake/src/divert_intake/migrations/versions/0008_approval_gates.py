"""Approval gates: who decides a waiting referral and by when, for the approvers' queue, and the
person's details held beside the event store while it waits.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referral_status", sa.Column("approval_by", sa.String(32)))
    op.add_column("referral_status", sa.Column("approval_due_by", sa.DateTime(timezone=True)))
    # The queue: one jurisdiction's waiting referrals for one approver, soonest due first.
    op.create_index(
        "ix_referral_status_approvals",
        "referral_status",
        ["jurisdiction", "approval_by", "approval_due_by", "referral_id"],
    )
    op.create_table(
        "held_contacts",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("contact", sa.JSON, nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("held_contacts")
    op.drop_index("ix_referral_status_approvals", "referral_status")
    with op.batch_alter_table("referral_status") as batch:
        batch.drop_column("approval_due_by")
        batch.drop_column("approval_by")
