"""Police status flags, the one-active-referral guard and list indexes.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referral_status", sa.Column("enrolled", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column(
        "referral_status", sa.Column("warrant_requested", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_index("ix_referral_status_referred", "referral_status", ["referred_at", "referral_id"])
    op.create_index("ix_referral_status_jurisdiction", "referral_status", ["jurisdiction", "referred_at"])
    # One active referral per RMS case and pathway: the primary key makes a racing duplicate fail.
    op.create_table(
        "active_referrals",
        sa.Column("agency", sa.String(64), primary_key=True),
        sa.Column("case_number", sa.String(64), primary_key=True),
        sa.Column("pathway", sa.String(32), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("active_referrals")
    op.drop_index("ix_referral_status_jurisdiction", "referral_status")
    op.drop_index("ix_referral_status_referred", "referral_status")
    with op.batch_alter_table("referral_status") as batch:
        batch.drop_column("warrant_requested")
        batch.drop_column("enrolled")
