"""Domain events → integration events (the published contract). Internal detail stays home:
the subject's identity and the case manager never leave assessment on `divert.cases`."""

from divert_assessment.domain import events
from divert_contracts import cases as contract
from divert_contracts.base import IntegrationEvent


def to_integration_event(event: events.DomainEvent) -> IntegrationEvent | None:
    """The contract event to publish for `event`, or None when nothing leaves assessment."""
    match event:
        case events.CaseOpened():
            return contract.CaseOpened(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                pathway=event.pathway,
                opened_at=event.opened_at,
                assessment_due_by=event.assessment_due_by,
            )
        case events.AssessmentCompleted():
            return contract.CaseAssessmentCompleted(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                completed_at=event.completed_at,
                assessment_due_by=event.assessment_due_by,
                on_time=event.on_time,
                needs=tuple(
                    contract.Need(domain=need.domain, priority=need.priority, part2=need.part2) for need in event.needs
                ),
            )
        case _:
            return None
