"""Matching and closed-loop service referrals: what the directory keeps of cases, its service
referral read models, capacity flags, and the audit trail of reads.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from divert_platform.audit import create_audit_table_v1, drop_audit_table_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "directory_cases",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64)),
        _utc("opened_at"),
        sa.Column("needs", sa.JSON, nullable=False),
        _utc("assessed_at"),
        _utc("closed_at"),
        _utc("last_closure_at"),
        _utc("last_reopening_at"),
        _utc("updated_at", nullable=False),
    )
    op.create_table(
        "directory_case_consents",
        sa.Column("consent_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("purpose", sa.String(32)),
        sa.Column("scope", sa.String(32)),
        sa.Column("part2", sa.Boolean, nullable=False),
        _utc("recorded_at"),
        _utc("expires_at"),
        _utc("revoked_at"),
    )
    op.create_index("ix_directory_case_consents_referral", "directory_case_consents", ["referral_id"])
    op.create_table(
        "service_referrals",
        sa.Column("service_referral_id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("need", sa.String(32), nullable=False),
        sa.Column("part2", sa.Boolean, nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _utc("made_at", nullable=False),
        _utc("updated_at", nullable=False),
    )
    op.create_index("ix_service_referrals_referral", "service_referrals", ["referral_id", "made_at"])
    op.create_index("ix_service_referrals_service", "service_referrals", ["service_id"])
    op.create_table(
        "service_referral_history",
        sa.Column("service_referral_id", sa.String(36), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16)),
        _utc("at", nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("role", sa.String(32)),
        sa.Column("agency", sa.String(64)),
    )
    op.create_table(
        "service_capacity_flags",
        sa.Column("service_id", sa.String(36), primary_key=True),
        sa.Column("at_capacity", sa.Boolean, nullable=False),
        _utc("marked_at", nullable=False),
        sa.Column("marked_by", sa.String(200)),
        sa.Column("service_referral_id", sa.String(36)),
    )
    create_audit_table_v1()


def downgrade() -> None:
    drop_audit_table_v1()
    op.drop_table("service_capacity_flags")
    op.drop_table("service_referral_history")
    op.drop_index("ix_service_referrals_service", table_name="service_referrals")
    op.drop_index("ix_service_referrals_referral", table_name="service_referrals")
    op.drop_table("service_referrals")
    op.drop_index("ix_directory_case_consents_referral", table_name="directory_case_consents")
    op.drop_table("directory_case_consents")
    op.drop_table("directory_cases")
