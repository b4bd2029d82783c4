"""The audit trail of reads of referral data by people.

Revision ID: 0003
Revises: 0002
"""

from divert_platform.audit import create_audit_table_v1, drop_audit_table_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table_v1()


def downgrade() -> None:
    drop_audit_table_v1()
