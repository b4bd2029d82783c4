"""The case lifecycle: manager, contacts, enrollment, closure on `cases`; consents; people's cases.

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
    # batch mode: SQLite cannot rename or add constrained columns in place
    with op.batch_alter_table("cases") as table:
        table.alter_column("on_time", new_column_name="assessed_on_time", existing_type=sa.Boolean)
        table.add_column(sa.Column("assessed_by", sa.String(64)))
        table.add_column(sa.Column("engagement", sa.String(16)))
        table.add_column(sa.Column("first_contact_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("contacts_attempted", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("enrolled_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("declined_reason", sa.String(32)))
        table.add_column(sa.Column("closed_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("close_reason", sa.String(32)))
        table.add_column(sa.Column("previous_referral_id", sa.String(36)))
    # before 0002 the only case manager recorded was the one who assessed
    op.execute("UPDATE cases SET assessed_by = case_manager_id WHERE completed_at IS NOT NULL")

    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("part2", sa.Boolean, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_consents_referral", "consents", ["referral_id"])

    op.create_table(
        "person_cases",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("rms_agency", sa.Text, nullable=False),
        sa.Column("rms_person_id", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_person_cases_person", "person_cases", ["rms_agency", "rms_person_id"])
    # no case could be closed before 0002, so every case with a person id is open
    op.execute(
        "INSERT INTO person_cases (referral_id, rms_agency, rms_person_id, opened_at, closed) "
        "SELECT referral_id, rms_agency, rms_person_id, opened_at, false FROM cases WHERE rms_person_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_person_cases_person", table_name="person_cases")
    op.drop_table("person_cases")
    op.drop_index("ix_consents_referral", table_name="consents")
    op.drop_table("consents")
    with op.batch_alter_table("cases") as table:
        for column in (
            "previous_referral_id",
            "close_reason",
            "closed_at",
            "declined_reason",
            "enrolled_at",
            "contacts_attempted",
            "first_contact_at",
            "engagement",
            "assessed_by",
        ):
            table.drop_column(column)
        table.alter_column("assessed_on_time", new_column_name="on_time", existing_type=sa.Boolean)
