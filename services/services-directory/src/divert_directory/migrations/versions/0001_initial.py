"""Platform tables (event store, outbox, inbox, idempotency keys); the HSDS catalogue is 0002.

Revision ID: 0001
Revises:
"""

from divert_platform.schema import create_platform_tables_v1, drop_platform_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()


def downgrade() -> None:
    drop_platform_tables_v1()
