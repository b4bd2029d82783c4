"""What program reports read of each referral: its precinct and policy version (report groups), how
a decline came about, and when it was accepted, lapsed, had a case opened, a warrant requested and
rescinded (docs/domain.md#reporting).

Existing rows are filled from what intake already keeps: the policy version and the decline's
reason codes from the row's `decision`, the rest from the event store (the precinct of an accepted
referral from its acceptance, of a declined one from its decline where the event carries it, of
one waiting at its approval gate from the contact held beside it). Three things were never kept
and stay empty: the precinct of a referral declined before declines carried it, a warrant
request's or rescission's own time (the time intake recorded the news is used), and case openings
(intake did not read them before this revision; reports count an assessed, enrolled or closed case
as opened).

Frozen like every migration: the decline kinds' codes are copied here, not imported.

Revision ID: 0009
Revises: 0008
"""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from divert_platform.columns import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    ("precinct", sa.String(100)),
    ("policy_version", sa.String(64)),
    ("decline_kind", sa.String(32)),
    ("accepted_at", sa.DateTime(timezone=True)),
    ("lapsed_at", sa.DateTime(timezone=True)),
    ("case_opened_at", sa.DateTime(timezone=True)),
    ("warrant_requested_at", sa.DateTime(timezone=True)),
    ("warrant_rescinded_at", sa.DateTime(timezone=True)),
)

_json = sa.JSON().with_variant(JSONB(), "postgresql")
events = sa.table(
    "events",
    sa.column("position", sa.BigInteger),
    sa.column("event_type", sa.String),
    sa.column("data", _json),
    sa.column("recorded_at", UtcDateTime),
)
held_contacts = sa.table("held_contacts", sa.column("referral_id", sa.String), sa.column("contact", sa.JSON))
referral_status = sa.table(
    "referral_status",
    sa.column("referral_id", sa.String),
    sa.column("status", sa.String),
    sa.column("decision", sa.JSON),
    *(sa.column(name, UtcDateTime if isinstance(kind, sa.DateTime) else kind) for name, kind in COLUMNS),
)

_EVENT_TYPES = (
    "ReferralAccepted",
    "ReferralDeclined",
    "AssessmentDeadlineLapsed",
    "WarrantRequestNoted",
    "WarrantRescissionNoted",
)


def decline_kind(codes: set[str]) -> str:
    """As `divert_intake.domain.reporting.decline_kind` said when this revision was written."""
    if "approval_denied" in codes:
        return "approval_denied"
    if "approval_timed_out" in codes:
        return "approval_timed_out"
    return "ineligible"


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _precinct(data: dict[str, Any]) -> str | None:
    location = data.get("location")
    return location.get("precinct") if isinstance(location, dict) else data.get("precinct")


def _from_decisions(bind: sa.Connection, filled: dict[str, dict[str, Any]]) -> None:
    rows = bind.execute(sa.select(referral_status.c.referral_id, referral_status.c.status, referral_status.c.decision))
    for referral_id, status, decision in rows.all():
        decision = decision if isinstance(decision, dict) else {}
        values = filled[referral_id]
        values["policy_version"] = decision.get("policy_version")
        if status == "declined":
            reasons = decision.get("reasons") or []
            values["decline_kind"] = decline_kind({str(r.get("code")) for r in reasons if isinstance(r, dict)})


def _from_events(bind: sa.Connection, filled: dict[str, dict[str, Any]]) -> None:
    query = (
        sa.select(events.c.event_type, events.c.data, events.c.recorded_at)
        .where(events.c.event_type.in_(_EVENT_TYPES))
        .order_by(events.c.position)
    )
    for event_type, data, recorded_at in bind.execute(query).all():
        values = filled[str(data["referral_id"])]
        match event_type:
            case "ReferralAccepted":
                values["precinct"] = _precinct(data)
                values["accepted_at"] = _instant(data.get("approved_at")) or _instant(data.get("referred_at"))
            case "ReferralDeclined":
                values["precinct"] = _precinct(data)
            case "AssessmentDeadlineLapsed":
                values["lapsed_at"] = _instant(data.get("lapsed_at"))
            case "WarrantRequestNoted":
                values.setdefault("warrant_requested_at", _instant(data.get("requested_at")) or recorded_at)
            case "WarrantRescissionNoted":
                values["warrant_rescinded_at"] = _instant(data.get("rescinded_at")) or recorded_at


def _from_held_contacts(bind: sa.Connection, filled: dict[str, dict[str, Any]]) -> None:
    for referral_id, contact in bind.execute(sa.select(held_contacts.c.referral_id, held_contacts.c.contact)).all():
        if isinstance(contact, dict):
            filled[referral_id].setdefault("precinct", _precinct(contact))


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("referral_status", sa.Column(name, kind))
    # The deadlines report: one jurisdiction's open referrals, soonest due first.
    op.create_index(
        "ix_referral_status_due", "referral_status", ["jurisdiction", "status", "assessment_due_by", "referral_id"]
    )
    bind = op.get_bind()
    filled: dict[str, dict[str, Any]] = defaultdict(dict)
    _from_decisions(bind, filled)
    _from_events(bind, filled)
    _from_held_contacts(bind, filled)
    for referral_id, values in filled.items():
        changes = {name: value for name, value in values.items() if value is not None}
        if changes:
            bind.execute(sa.update(referral_status).where(referral_status.c.referral_id == referral_id).values(changes))


def downgrade() -> None:
    op.drop_index("ix_referral_status_due", "referral_status")
    with op.batch_alter_table("referral_status") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
