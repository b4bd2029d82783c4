"""Read models from domain events: `cases`, `consents` and `person_cases`, one event at a time.

This is the only code that writes those tables. The case repository calls `project` for each
event it appends, in the same transaction; replaying every stored event through `project` (oldest
first) into empty tables rebuilds them.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.tables import cases, consents, person_cases
from divert_assessment.domain import events
from divert_assessment.domain.status import CaseStatus
from divert_platform.aggregate import DomainEvent
from divert_platform.clock import as_utc


async def project(session: AsyncSession, event: DomainEvent, *, recorded_at: datetime) -> None:
    """Apply one domain event to the read models.

    `recorded_at` becomes the case's `updated_at`: the repository passes the time it appends, a
    rebuild each stored event's `recorded_at`, so `updated_at` is when the change was recorded
    rather than when the tables were rebuilt.
    """
    match event:
        case events.CaseOpened():
            await _case_opened(session, event, recorded_at)
        case events.ConsentRecorded():
            await session.execute(
                insert(consents),
                {
                    "consent_id": str(event.consent_id),
                    "referral_id": str(event.referral_id),
                    "parties": list(event.parties),
                    "purpose": event.purpose,
                    "scope": event.scope,
                    "part2": event.part2,
                    "recorded_at": event.recorded_at,
                    "expires_at": event.expires_at,
                },
            )
            await _update_case(session, event, recorded_at)
        case events.ConsentRevoked():
            await session.execute(
                update(consents)
                .where(consents.c.consent_id == str(event.consent_id))
                .values(revoked_at=event.revoked_at)
            )
            await _update_case(session, event, recorded_at)
        case events.CaseClosed() | events.CaseReopened():
            await session.execute(
                update(person_cases)
                .where(person_cases.c.referral_id == str(event.referral_id))
                .values(closed=isinstance(event, events.CaseClosed))
            )
            await _update_case(session, event, recorded_at, **_case_changes(event))
        case events.CaseEvent():
            await _update_case(session, event, recorded_at, **_case_changes(event))


async def _case_opened(session: AsyncSession, event: events.CaseOpened, now: datetime) -> None:
    subject = event.subject
    await session.execute(
        insert(cases),
        {
            "referral_id": str(event.referral_id),
            "status": CaseStatus.PENDING_ASSESSMENT.value,
            "jurisdiction": event.jurisdiction,
            "pathway": event.pathway,
            "rms_agency": event.rms_agency,
            "referred_at": event.referred_at,
            "assessment_due_by": event.assessment_due_by,
            "opened_at": event.opened_at,
            "given_name": subject.given_name,
            "family_name": subject.family_name,
            "date_of_birth": subject.date_of_birth,
            "phone": subject.phone,
            "rms_person_id": subject.rms_person_id,
            "contacts_attempted": 0,
            "previous_referral_id": str(event.previous_referral_id) if event.previous_referral_id else None,
            "agency": event.agency,
            "precinct": event.precinct,
            "policy_version": event.policy_version,
            "assessment_reminders_at": _instants(event.assessment_reminders_at),
            "due_soon": False,
            "updated_at": now,
        },
    )
    if subject.rms_person_id:
        await session.execute(
            insert(person_cases),
            {
                "referral_id": str(event.referral_id),
                "rms_agency": event.rms_agency,
                "rms_person_id": subject.rms_person_id,
                "opened_at": event.opened_at,
                "closed": False,
            },
        )


def _instants(times: tuple[datetime, ...]) -> list[str]:
    """Times as the JSON column keeps them: ISO 8601 in UTC (read back with `datetime.fromisoformat`)."""
    return [as_utc(time).isoformat() for time in times]


def _case_changes(event: events.CaseEvent) -> dict[str, Any]:
    """The `cases` columns an event changes (besides `updated_at`)."""
    match event:
        case events.AssessmentReminded():
            return {"last_reminder_at": event.reminded_at, "reminded_days_before": event.days_before, "due_soon": True}
        case events.AssessmentDeadlineExtended():
            # the reminder received was of the earlier due time: not due soon until reminded again
            return {
                "assessment_due_by": event.assessment_due_by,
                "assessment_reminders_at": _instants(event.assessment_reminders_at),
                "due_soon": False,
            }
        case events.AssessmentCompleted():
            return {
                "due_soon": False,
                "status": CaseStatus.ASSESSED.value,
                "completed_at": event.completed_at,
                "assessed_by": event.case_manager_id,
                # whoever assessed looks after the case until a manager is assigned (as in the aggregate)
                "case_manager_id": func.coalesce(cases.c.case_manager_id, event.case_manager_id),
                "assessed_on_time": event.on_time,
                "needs": [need.model_dump(mode="json") for need in event.needs],
            }
        case events.ManagerAssigned():
            return {"case_manager_id": event.case_manager_id}
        case events.ContactRecorded():
            changes: dict[str, Any] = {"contacts_attempted": cases.c.contacts_attempted + 1}
            if event.first_made:
                changes["first_contact_at"] = event.at
            return changes
        case events.ParticipantEnrolled():
            return {"status": CaseStatus.ENROLLED.value, "engagement": "active", "enrolled_at": event.enrolled_at}
        case events.ParticipantDeclined():
            return {"status": CaseStatus.DECLINED.value, "declined_reason": event.reason}
        case events.EngagementChanged():
            return {"engagement": event.engagement}
        case events.CaseClosed():
            return {
                "status": CaseStatus.CLOSED.value,
                "closed_at": event.closed_at,
                "close_reason": event.reason,
                "due_soon": False,
            }
        case events.CaseReopened():
            return {
                "status": CaseStatus(event.status).value,
                "engagement": event.engagement,
                "closed_at": None,
                "close_reason": None,
            }
        case _:
            return {}


async def _update_case(session: AsyncSession, event: events.CaseEvent, now: datetime, **changes: Any) -> None:
    await session.execute(
        update(cases).where(cases.c.referral_id == str(event.referral_id)).values(updated_at=now, **changes)
    )
