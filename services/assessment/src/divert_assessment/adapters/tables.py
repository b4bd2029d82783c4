"""Assessment's read-model tables (the schema itself is created by Alembic migrations)."""

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Index, MetaData, String, Table, Text

metadata = MetaData()

# One row per case: what case-agency staff see. Subject fields are Text because the referral
# contract does not bound them, and a too-long name must never wedge the consumer.
cases = Table(
    "cases",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("jurisdiction", String(64), nullable=False),
    Column("pathway", String(32), nullable=False),
    Column("rms_agency", Text, nullable=False),
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("assessment_due_by", DateTime(timezone=True)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("given_name", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("date_of_birth", Date),
    Column("phone", Text),
    Column("rms_person_id", Text),
    Column("completed_at", DateTime(timezone=True)),
    Column("case_manager_id", String(64)),
    Column("on_time", Boolean),
    Column("needs", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cases_status_due", "status", "assessment_due_by"),
)
