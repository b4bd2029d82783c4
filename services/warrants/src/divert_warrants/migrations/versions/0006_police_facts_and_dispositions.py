"""The police's own facts in warrants' record, and the prosecutor's disposition of each request.

`referral_facts` gains what intake publishes on `referral.accepted` and the prosecutor needs to
find the police case: the RMS agency, case number and officer id, the offense category and
statute, the referral time, the policy version that set the assessment window and the due time it
set (before extensions). Never who the person is. `warrant_requests` gains the prosecutor's
disposition (`filed`, `declined_to_file`, `returned_to_program`) and when it was recorded.

Rows written before this revision have these columns empty and the API shows them as null: the
acceptances were applied once already, and a replay of `divert.referrals` skips what each consumer
applied, so they stay null for referrals accepted before the upgrade. Dispositions start empty.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_POLICE_FACTS = (
    ("rms_agency", sa.String(64)),
    ("rms_case_number", sa.String(64)),
    ("officer_id", sa.String(64)),
    ("offense_category", sa.String(200)),
    ("offense_statute", sa.String(200)),
    ("referred_at", sa.DateTime(timezone=True)),
    ("policy_version", sa.String(64)),
    ("accepted_due_by", sa.DateTime(timezone=True)),
)
_DISPOSITION = (
    ("disposition", sa.String(32)),
    ("disposed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, column_type in _POLICE_FACTS:
        op.add_column("referral_facts", sa.Column(name, column_type, nullable=True))
    for name, column_type in _DISPOSITION:
        op.add_column("warrant_requests", sa.Column(name, column_type, nullable=True))
    # The prosecutor's list filters by agency.
    op.create_index("ix_referral_facts_rms_agency", "referral_facts", ["rms_agency"])


def downgrade() -> None:
    op.drop_index("ix_referral_facts_rms_agency", table_name="referral_facts")
    with op.batch_alter_table("warrant_requests") as batch:
        for name, _ in reversed(_DISPOSITION):
            batch.drop_column(name)
    with op.batch_alter_table("referral_facts") as batch:
        for name, _ in reversed(_POLICE_FACTS):
            batch.drop_column(name)
