"""Domain events → integration events (the published contract). Internal details stay home."""

from divert_contracts import warrants as contract
from divert_contracts.base import IntegrationEvent
from divert_warrants.domain import events
from divert_warrants.domain.warrant_request import WarrantRequest


def to_integration_event(event: events.WarrantRequestEvent, request: WarrantRequest) -> IntegrationEvent | None:
    """The contract event to publish for `event` of `request`, or None when nothing leaves the service."""
    ids = {"warrant_request_id": event.warrant_request_id, "referral_id": event.referral_id}
    match event:
        case events.WarrantRequested():
            return contract.WarrantRequested(
                **ids,
                jurisdiction=event.jurisdiction,
                kind=event.kind,
                assessment_due_by=event.assessment_due_by,
                lapsed_at=event.lapsed_at,
                requested_at=event.requested_at,
            )
        case events.RequestRescinded():
            return contract.WarrantRequestRescinded(
                **ids, jurisdiction=event.jurisdiction, reason=event.reason, rescinded_at=event.rescinded_at
            )
        case events.RequestAcknowledged():
            return contract.WarrantRequestAcknowledged(
                **ids,
                jurisdiction=event.jurisdiction,
                acknowledged_by=event.acknowledged_by,
                acknowledged_at=event.acknowledged_at,
            )
        case events.WrongfulRequestFlagged():
            return contract.WarrantRequestFlagged(
                **ids, jurisdiction=event.jurisdiction, reason=event.reason, flagged_at=event.flagged_at
            )
        case events.RequestDisposed():
            return contract.WarrantRequestDisposed(
                **ids, jurisdiction=event.jurisdiction, disposition=event.disposition, disposed_at=event.disposed_at
            )
        case _:
            return None
