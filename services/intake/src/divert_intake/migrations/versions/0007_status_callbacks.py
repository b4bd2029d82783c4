"""Agencies' status callbacks (endpoints, messages, attempts), and police see a closed case.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from divert_platform.callbacks.schema import create_callback_tables_v1, drop_callback_tables_v1

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_callback_tables_v1()
    op.add_column("referral_status", sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("referral_status") as batch:
        batch.drop_column("closed")
    drop_callback_tables_v1()
