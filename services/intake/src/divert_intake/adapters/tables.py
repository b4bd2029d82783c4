"""Intake's read-model tables (the schema itself is created by Alembic migrations)."""

from sqlalchemy import JSON, Boolean, Column, DateTime, MetaData, String, Table

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
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("assessment_due_by", DateTime(timezone=True)),
    Column("assessed_on_time", Boolean),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
