"""Warrants' read-model tables (the schema itself is created by Alembic migrations)."""

from sqlalchemy import Boolean, Column, MetaData, String, Table, UniqueConstraint, false

from divert_platform.columns import UtcDateTime

metadata = MetaData()

warrant_requests = Table(
    "warrant_requests",
    metadata,
    Column("warrant_request_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False),
    Column("jurisdiction", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("assessment_due_by", UtcDateTime, nullable=False),
    Column("lapsed_at", UtcDateTime, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("rescinded_at", UtcDateTime),
    Column("rescission_reason", String(32)),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(32)),
    Column("flagged", Boolean, nullable=False, server_default=false()),
    Column("flag_reason", String(32)),
    Column("flagged_at", UtcDateTime),
    Column("disposition", String(32)),
    Column("disposed_at", UtcDateTime),
    UniqueConstraint("referral_id", name="uq_warrant_requests_referral_id"),
)

# Warrants' own record of each referral: standing, times and event ids only; never who the person
# is, needs, contacts, consent, or a withdrawal's or extension's reasons.
referral_facts = Table(
    "referral_facts",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("jurisdiction", String(64)),
    Column("pathway", String(32)),
    Column("lapse_action", String(32)),
    Column("accepted_event_id", String(64)),
    Column("assessment_due_by", UtcDateTime),
    Column("due_event_id", String(64)),
    Column("lapsed_at", UtcDateTime),
    Column("due_at_lapse", UtcDateTime),
    Column("lapse_event_id", String(64)),
    Column("assessment_completed_at", UtcDateTime),
    Column("assessment_event_id", String(64)),
    Column("withdrawn_at", UtcDateTime),
    Column("withdrawal_event_id", String(64)),
    # The police's own facts from `referral.accepted` (revision 0006): what the prosecutor needs.
    Column("rms_agency", String(64)),
    Column("rms_case_number", String(64)),
    Column("officer_id", String(64)),
    Column("offense_category", String(200)),
    Column("offense_statute", String(200)),
    Column("referred_at", UtcDateTime),
    Column("policy_version", String(64)),
    Column("accepted_due_by", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)
