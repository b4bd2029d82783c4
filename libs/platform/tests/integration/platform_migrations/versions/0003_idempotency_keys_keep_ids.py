"""Idempotency keys keep the status and ids of their answer, never its body.

Revision ID: 0003
Revises: 0002
"""

from divert_platform.idempotency import keep_only_ids_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keep_only_ids_v1("note_id", "thing_id")


def downgrade() -> None:
    """Nothing to undo: the bodies are gone."""
