"""The tables of matching and closed-loop service referrals (Alembic migration 0003 creates them).

`directory_cases` and `directory_case_consents` are what the consumer keeps of `divert.cases`
(state-based: rows merged in place, no events of their own); `service_referrals`,
`service_referral_history` and `service_capacity_flags` are read models of the directory's own
event store, written in the same transaction as the events. Times are UTC.
"""

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table

from divert_platform.columns import UtcDateTime

metadata = MetaData()

# One row per case heard of on divert.cases: ids, codes and times only, never the person.
directory_cases = Table(
    "directory_cases",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("jurisdiction", String(64), nullable=False),
    # the case agency owning the case (DIVERT_CASE_AGENCIES), null when none serves the jurisdiction
    Column("agency", String(64)),
    Column("opened_at", UtcDateTime),
    # the latest assessment's needs: [{"domain", "priority", "part2"}], most urgent first
    Column("needs", JSON, nullable=False),
    Column("assessed_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    # when the latest closure and reopening were recorded, to order them however they arrive
    Column("last_closure_at", UtcDateTime),
    Column("last_reopening_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Every consent recorded on a case; a row may hold only a revocation when it arrived first.
directory_case_consents = Table(
    "directory_case_consents",
    metadata,
    Column("consent_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False),
    Column("parties", JSON, nullable=False),
    Column("purpose", String(32)),
    Column("scope", String(32)),
    Column("part2", Boolean, nullable=False),
    Column("recorded_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Index("ix_directory_case_consents_referral", "referral_id"),
)

service_referrals = Table(
    "service_referrals",
    metadata,
    Column("service_referral_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False),
    Column("jurisdiction", String(64), nullable=False),
    Column("service_id", String(36), nullable=False),
    Column("organization_id", String(36), nullable=False),
    Column("need", String(32), nullable=False),
    Column("part2", Boolean, nullable=False),
    Column("consent_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_service_referrals_referral", "referral_id", "made_at"),
    Index("ix_service_referrals_service", "service_id"),
)

# Each status a service referral took, with who recorded it (one row per event of its stream).
service_referral_history = Table(
    "service_referral_history",
    metadata,
    Column("service_referral_id", String(36), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(16)),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200)),
    Column("role", String(32)),
    Column("agency", String(64)),
)

# Services marked at capacity (or with room again); a service without a row has room.
service_capacity_flags = Table(
    "service_capacity_flags",
    metadata,
    Column("service_id", String(36), primary_key=True),
    Column("at_capacity", Boolean, nullable=False),
    Column("marked_at", UtcDateTime, nullable=False),
    Column("marked_by", String(200)),
    # the declined referral (no_capacity) that marked the service full, when that is how
    Column("service_referral_id", String(36)),
)
