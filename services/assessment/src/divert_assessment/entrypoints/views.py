"""Read-model rows → the API's views."""

from datetime import datetime
from typing import Any
from uuid import UUID

from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.schemas import (
    MAX_CONSENTS,
    AssessmentView,
    CaseSummary,
    CaseView,
    ConsentView,
    SubjectName,
    SubjectView,
)


def consent_view(row: dict[str, Any], now: datetime) -> ConsentView:
    """A `consents` row, judged active at `now`: not revoked and not yet expired."""
    return ConsentView(
        consent_id=UUID(row["consent_id"]),
        parties=row["parties"],
        purpose=row["purpose"],
        scope=row["scope"],
        part2=row["part2"],
        recorded_at=row["recorded_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        active=row["revoked_at"] is None and now < row["expires_at"],
    )


def next_reminder_at(row: dict[str, Any], now: datetime) -> datetime | None:
    """The case's first reminder after `now`, while it is pending assessment; else None."""
    if row["status"] != CaseStatus.PENDING_ASSESSMENT:
        return None
    upcoming = (datetime.fromisoformat(moment) for moment in row["assessment_reminders_at"] or ())
    return min((moment for moment in upcoming if moment > now), default=None)


def reminders(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The reminder fields of a case's views, judged at `now`."""
    return {
        "due_soon": row["due_soon"],
        "last_reminder_at": row["last_reminder_at"],
        "reminded_days_before": row["reminded_days_before"],
        "next_reminder_at": next_reminder_at(row, now),
    }


def case_view(row: dict[str, Any], consents: list[dict[str, Any]], now: datetime) -> CaseView:
    """A `cases` row with its `consents` rows, at `now`."""
    return CaseView(
        **reminders(row, now),
        referral_id=UUID(row["referral_id"]),
        status=row["status"],
        jurisdiction=row["jurisdiction"],
        pathway=row["pathway"],
        referred_at=row["referred_at"],
        assessment_due_by=row["assessment_due_by"],
        opened_at=row["opened_at"],
        subject=SubjectView(
            given_name=row["given_name"],
            family_name=row["family_name"],
            date_of_birth=row["date_of_birth"],
            phone=row["phone"],
            rms_person_id=row["rms_person_id"],
        ),
        assessment=AssessmentView(
            completed_at=row["completed_at"],
            case_manager_id=row["assessed_by"],
            on_time=row["assessed_on_time"],
            needs=row["needs"],
        )
        if row["completed_at"] is not None
        else None,
        case_manager_id=row["case_manager_id"],
        engagement=row["engagement"],
        first_contact_at=row["first_contact_at"],
        contacts_attempted=row["contacts_attempted"],
        enrolled_at=row["enrolled_at"],
        declined_reason=row["declined_reason"],
        closed_at=row["closed_at"],
        close_reason=row["close_reason"],
        previous_referral_id=UUID(row["previous_referral_id"]) if row["previous_referral_id"] else None,
        updated_at=row["updated_at"],
        consents=[consent_view(consent, now) for consent in consents[-MAX_CONSENTS:]],
    )


def case_summary(row: dict[str, Any], now: datetime) -> CaseSummary:
    """A `cases` row as a list item, at `now`."""
    computed = reminders(row, now)
    return CaseSummary(
        referral_id=UUID(row["referral_id"]),
        subject=SubjectName(given_name=row["given_name"], family_name=row["family_name"]),
        **computed,
        **{name: row[name] for name in CaseSummary.model_fields if name not in {"referral_id", "subject", *computed}},
    )
