"""Warrants' own record of each referral: standing, due time in force and the recorded lapse.

Warrants decides a warrant request from this record, never from the caller's body. Columns hold
standing (jurisdiction, pathway, lapse action), instants and event ids only: never who the person
is, case content, or a withdrawal's or extension's reasons.

Rows written before this revision have these columns empty: a referral accepted before the
upgrade is known only once intake's referral events reach warrants again. After upgrading, run
`divert-intake replay --topic divert.referrals --since <the oldest pending arrest diversion's
referral time>`: every consumer skips what it already applied, warrants fills its record. Until
then a lapse notice for such a referral is answered 409 `lapse-not-recorded` and retried.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RECORD = (
    ("jurisdiction", sa.String(64)),
    ("pathway", sa.String(32)),
    ("lapse_action", sa.String(32)),
    ("accepted_event_id", sa.String(64)),
    ("assessment_due_by", sa.DateTime(timezone=True)),
    ("due_event_id", sa.String(64)),
    ("lapsed_at", sa.DateTime(timezone=True)),
    ("due_at_lapse", sa.DateTime(timezone=True)),
    ("lapse_event_id", sa.String(64)),
)


def upgrade() -> None:
    for name, column_type in _RECORD:
        op.add_column("referral_facts", sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral_facts") as batch:
        for name, _ in reversed(_RECORD):
            batch.drop_column(name)
