"""Intake's read-model tables (the schema itself is created by Alembic migrations)."""

from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, false

from divert_platform.columns import UtcDateTime

metadata = MetaData()

referral_status = Table(
    "referral_status",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("jurisdiction", String(64), nullable=False),
    Column("pathway", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("referred_at", UtcDateTime, nullable=False),
    Column("assessment_due_by", UtcDateTime),
    Column("assessed_on_time", Boolean),
    Column("enrolled", Boolean, nullable=False, default=False),
    Column("warrant_requested", Boolean, nullable=False, default=False),
    Column("closed", Boolean, nullable=False, server_default=false()),
    # While a referral waits at its policy's approval gate: who decides, and by when.
    Column("approval_by", String(32)),
    Column("approval_due_by", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    # What program reports group and count by (docs/domain.md#reporting); never shown to police.
    Column("precinct", String(100)),
    Column("policy_version", String(64)),
    Column("decline_kind", String(32)),
    Column("accepted_at", UtcDateTime),
    Column("lapsed_at", UtcDateTime),
    Column("case_opened_at", UtcDateTime),
    Column("warrant_requested_at", UtcDateTime),
    Column("warrant_rescinded_at", UtcDateTime),
)

# The claim that keeps one active referral per RMS case and pathway (released on withdrawal).
active_referrals = Table(
    "active_referrals",
    metadata,
    Column("agency", String(64), primary_key=True),
    Column("case_number", String(64), primary_key=True),
    Column("pathway", String(32), primary_key=True),
    Column("referral_id", String(36), nullable=False, unique=True),
)

# The person's details of a referral waiting at its approval gate, deleted at the decision.
held_contacts = Table(
    "held_contacts",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("contact", JSON, nullable=False),
    Column("held_at", UtcDateTime, nullable=False),
)
