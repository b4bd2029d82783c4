"""Warrants' read-model tables (the schema itself is created by Alembic migrations)."""

from sqlalchemy import Column, DateTime, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

warrant_requests = Table(
    "warrant_requests",
    metadata,
    Column("warrant_request_id", String(36), primary_key=True),
    Column("referral_id", String(36), nullable=False),
    Column("jurisdiction", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("assessment_due_by", DateTime(timezone=True), nullable=False),
    Column("lapsed_at", DateTime(timezone=True), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("referral_id", name="uq_warrant_requests_referral_id"),
)
