"""Domain events → integration events (the published contract). Internal details stay home."""

from divert_contracts import warrants as contract
from divert_contracts.base import IntegrationEvent
from divert_warrants.domain import events


def to_integration_event(event: events.DomainEvent) -> IntegrationEvent | None:
    """The contract event to publish for `event`, or None when nothing leaves the service."""
    match event:
        case events.WarrantRequested():
            return contract.WarrantRequested(
                warrant_request_id=event.warrant_request_id,
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                kind=event.kind,
                assessment_due_by=event.assessment_due_by,
                lapsed_at=event.lapsed_at,
                requested_at=event.requested_at,
            )
        case _:
            return None
