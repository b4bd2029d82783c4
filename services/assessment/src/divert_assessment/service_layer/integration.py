"""Domain events → integration events (the published contract). Internal detail stays home:
the subject's identity, the RMS agency and who assessed never leave assessment on `divert.cases`."""

from typing import Any

from divert_assessment.domain import events
from divert_assessment.domain.case import Case
from divert_contracts import cases as contract
from divert_contracts.base import IntegrationEvent


def to_integration_event(event: events.CaseEvent, case: Case) -> IntegrationEvent | None:
    """The contract event to publish for `event` of `case`, or None when nothing leaves assessment."""
    about: dict[str, Any] = {"referral_id": event.referral_id, "jurisdiction": event.jurisdiction}
    match event:
        case events.CaseOpened():
            return contract.CaseOpened(
                **about,
                pathway=event.pathway,
                opened_at=event.opened_at,
                assessment_due_by=event.assessment_due_by,
                referred_at=event.referred_at,
                previous_referral_id=event.previous_referral_id,
            )
        case events.AssessmentCompleted():
            return contract.CaseAssessmentCompleted(
                **about,
                completed_at=event.completed_at,
                assessment_due_by=event.assessment_due_by,
                on_time=event.on_time,
                needs=tuple(
                    contract.Need(domain=need.domain, priority=need.priority, part2=need.part2) for need in event.needs
                ),
            )
        case events.ManagerAssigned():
            return contract.CaseManagerAssigned(
                **about, case_manager_id=event.case_manager_id, agency=event.agency, assigned_at=event.assigned_at
            )
        case events.ContactRecorded():
            return contract.CaseContactRecorded(
                **about,
                contact_id=event.contact_id,
                at=event.at,
                method=event.method,
                outcome=event.outcome,
                first_made=event.first_made,
            )
        case events.ConsentRecorded():
            return contract.CaseConsentRecorded(
                **about,
                consent_id=event.consent_id,
                parties=event.parties,
                purpose=event.purpose,
                scope=event.scope,
                part2=event.part2,
                recorded_at=event.recorded_at,
                expires_at=event.expires_at,
            )
        case events.ConsentRevoked():
            return contract.CaseConsentRevoked(**about, consent_id=event.consent_id, revoked_at=event.revoked_at)
        case events.ParticipantEnrolled():
            return contract.CaseParticipantEnrolled(**about, enrolled_at=event.enrolled_at)
        case events.ParticipantDeclined():
            return contract.CaseParticipantDeclined(**about, declined_at=event.declined_at, reason=event.reason)
        case events.EngagementChanged():
            return contract.CaseEngagementChanged(**about, engagement=event.engagement, changed_at=event.changed_at)
        case events.CaseClosed():
            return contract.CaseClosed(**about, reason=event.reason, closed_at=event.closed_at)
        case events.CaseReopened():
            return contract.CaseReopened(**about, reopened_at=event.reopened_at)
        case _:
            return None
