"""Domain events → integration events (the published contract). Internal detail stays home:
the subject's identity, the RMS agency and who assessed never leave assessment on `divert.cases`.

Four moments of a case (opened, assessed, enrolled, closed) are told twice, in the same
transaction: in full on `divert.cases`, for case-agency-side services, and as a status-only
milestone on `divert.case-milestones`, the one case topic the enforcement side may read (LEAD's
golden rule in the data plane: docs/access.md#golden-rule).
"""

from collections.abc import Sequence
from typing import Any

from divert_assessment.domain import events
from divert_assessment.domain.case import Case
from divert_contracts import cases as contract
from divert_contracts import milestones
from divert_contracts.base import IntegrationEvent


def to_integration_event(event: events.CaseEvent, case: Case) -> IntegrationEvent | Sequence[IntegrationEvent] | None:
    """The contract event(s) to publish for `event` of `case`, or None when nothing leaves assessment."""
    about: dict[str, Any] = {"referral_id": event.referral_id, "jurisdiction": event.jurisdiction}
    match event:
        case events.CaseOpened():
            opened = contract.CaseOpened(
                **about,
                pathway=event.pathway,
                opened_at=event.opened_at,
                assessment_due_by=event.assessment_due_by,
                referred_at=event.referred_at,
                previous_referral_id=event.previous_referral_id,
            )
            return opened, milestones.CaseOpenedMilestone(**about, opened_at=event.opened_at)
        case events.AssessmentCompleted():
            assessed = contract.CaseAssessmentCompleted(
                **about,
                completed_at=event.completed_at,
                assessment_due_by=event.assessment_due_by,
                on_time=event.on_time,
                needs=tuple(
                    contract.Need(domain=need.domain, priority=need.priority, part2=need.part2) for need in event.needs
                ),
            )
            return assessed, milestones.CaseAssessedMilestone(
                **about, completed_at=event.completed_at, on_time=event.on_time
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
            enrolled = contract.CaseParticipantEnrolled(**about, enrolled_at=event.enrolled_at)
            return enrolled, milestones.CaseEnrolledMilestone(**about, enrolled_at=event.enrolled_at)
        case events.ParticipantDeclined():
            return contract.CaseParticipantDeclined(**about, declined_at=event.declined_at, reason=event.reason)
        case events.EngagementChanged():
            return contract.CaseEngagementChanged(**about, engagement=event.engagement, changed_at=event.changed_at)
        case events.CaseClosed():
            closed = contract.CaseClosed(**about, reason=event.reason, closed_at=event.closed_at)
            return closed, milestones.CaseClosedMilestone(**about, closed_at=event.closed_at)
        case events.CaseReopened():
            return contract.CaseReopened(**about, reopened_at=event.reopened_at)
        case _:
            return None
