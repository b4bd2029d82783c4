"""The inbox keyed by topic.

Revision ID: 0002
Revises: 0001
"""

from divert_platform.schema import key_inbox_by_source_v1, key_inbox_by_topic_v2

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    key_inbox_by_topic_v2()


def downgrade() -> None:
    key_inbox_by_source_v1()
