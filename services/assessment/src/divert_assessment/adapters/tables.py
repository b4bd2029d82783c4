"""Assessment's read-model tables (the schema itself is created by Alembic migrations).

Every row here is derived from the event store by `adapters/projections.py`, so it can be
rebuilt from the events at any time. Times are stored and read back in UTC (`UtcDateTime`).
"""

from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text, false

from divert_platform.columns import UtcDateTime

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
    # for program reports by precinct and policy version (from `referral.accepted`; null in cases
    # opened before they were kept, which no stored event can fill in)
    Column("precinct", String(100)),
    Column("policy_version", String(64)),
    Column("rms_agency", Text, nullable=False),
    Column("referred_at", UtcDateTime, nullable=False),
    Column("assessment_due_by", UtcDateTime),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("given_name", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("date_of_birth", Date),
    Column("phone", Text),
    Column("rms_person_id", Text),
    Column("completed_at", UtcDateTime),
    # the assigned case manager; whoever assessed the case until one is assigned
    Column("case_manager_id", String(64)),
    Column("assessed_by", String(64)),
    Column("assessed_on_time", Boolean),
    Column("needs", JSON),
    Column("engagement", String(16)),
    # the first contact made (the warm hand-off), and how many contacts were recorded, made or not
    Column("first_contact_at", UtcDateTime),
    Column("contacts_attempted", Integer, nullable=False, server_default="0"),
    Column("enrolled_at", UtcDateTime),
    Column("declined_reason", String(32)),
    Column("closed_at", UtcDateTime),
    Column("close_reason", String(32)),
    Column("previous_referral_id", String(36)),
    Column("updated_at", UtcDateTime, nullable=False),
    # the case agency that owns the case (whose case managers see it); null when the jurisdiction
    # had no agency configured when the case was opened: then only program reports count it
    Column("agency", String(64)),
    # Reminders of the assessment's due time: when they will be (ISO 8601 UTC times, earliest first;
    # null in rows from before reminders), the last one received and its offset in days, and
    # `due_soon` while that reminder concerns the current due time and the case awaits assessment.
    Column("assessment_reminders_at", JSON),
    Column("last_reminder_at", UtcDateTime),
    Column("reminded_days_before", Integer),
    Column("due_soon", Boolean, nullable=False, server_default=false()),
    Index("ix_cases_status_due", "status", "assessment_due_by"),
    Index("ix_cases_agency_referred", "agency", "referred_at"),
)

# Every consent recorded on a case, active or not (whether it is in force is decided at read time).
consents = Table(
    "consents",
    metadata,
    Column("consent_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False),
    Column("parties", JSON, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("part2", Boolean, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index("ix_consents_referral", "referral_id"),
)

# Cases by the RMS agency's own person id: how a re-referral finds the person's earlier case.
# Only cases whose referral carried an rms_person_id are here; names are never used to match.
person_cases = Table(
    "person_cases",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("rms_agency", Text, nullable=False),
    Column("rms_person_id", Text, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed", Boolean, nullable=False),
    Index("ix_person_cases_person", "rms_agency", "rms_person_id"),
)
