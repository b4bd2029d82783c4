"""The inbox is keyed by the topic an event was read from, not by the source it claims.

Revision ID: 0003
Revises: 0002
"""

from divert_platform.schema import key_inbox_by_source_v1, key_inbox_by_topic_v2

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    key_inbox_by_topic_v2()


def downgrade() -> None:
    key_inbox_by_source_v1()
