"""Request lifecycle (rescinded, acknowledged, flagged) and the referral facts behind rescissions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIFECYCLE = (
    ("rescinded_at", sa.DateTime(timezone=True)),
    ("rescission_reason", sa.String(32)),
    ("acknowledged_at", sa.DateTime(timezone=True)),
    ("acknowledged_by", sa.String(32)),
    ("flag_reason", sa.String(32)),
    ("flagged_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, column_type in _LIFECYCLE:
        op.add_column("warrant_requests", sa.Column(name, column_type, nullable=True))
    op.add_column("warrant_requests", sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_warrant_requests_status", "warrant_requests", ["status", "requested_at"])
    # What warrants heard about a referral from case and referral events: times and event ids
    # only, never case content. The row doubles as the per-referral lock (see adapters).
    op.create_table(
        "referral_facts",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("assessment_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessment_event_id", sa.String(64), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_event_id", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("referral_facts")
    op.drop_index("ix_warrant_requests_status", "warrant_requests")
    with op.batch_alter_table("warrant_requests") as batch:
        batch.drop_column("flagged")
        for name, _ in reversed(_LIFECYCLE):
            batch.drop_column(name)
