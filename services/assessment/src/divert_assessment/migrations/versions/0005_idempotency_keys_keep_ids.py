"""Idempotency keys keep the status and ids of their answer, never its body.

Until this revision a key kept the whole first response: the case view, with the person's name,
phone number and needs (42 CFR Part 2 ones included), or a consent. This rewrites each stored
response to the id a retry reads the answer again by (`consent_id` for a consent, else the case's
`referral_id`), keeping keys, request hashes and status codes, so a key used before still guards
against a second effect. Nothing can restore the bodies: the downgrade leaves them removed (a
release before this one would answer a retry with the ids alone).

Revision ID: 0005
Revises: 0004
"""

from divert_platform.idempotency import keep_only_ids_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keep_only_ids_v1("consent_id", "referral_id")


def downgrade() -> None:
    """Nothing to undo: the bodies are gone."""
