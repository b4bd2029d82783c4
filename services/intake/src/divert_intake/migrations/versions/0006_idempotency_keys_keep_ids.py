"""Idempotency keys keep the status and ids of their answer, never its body.

Until this revision a key kept the whole first response: the referral submitted with its decision,
or its status view. This rewrites each stored response to the id a retry reads the referral again by
(`referral_id`), keeping keys, request hashes and status codes, so a key used before still guards
against a second effect. Nothing can restore the bodies: the downgrade leaves them removed (a
release before this one would answer a retry with the ids alone).

Revision ID: 0006
Revises: 0005
"""

from divert_platform.idempotency import keep_only_ids_v1

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keep_only_ids_v1("referral_id")


def downgrade() -> None:
    """Nothing to undo: the bodies are gone."""
