"""Domain events → integration events (the published contract on `divert.directory`).

Capacity marks stay home: they are about services, not about a case, and no other service needs them.
"""

from typing import Any

from divert_contracts import directory as contract
from divert_contracts.base import IntegrationEvent
from divert_directory.domain import events
from divert_directory.domain.service_referral import ServiceReferral
from divert_platform.aggregate import Aggregate, DomainEvent


def to_integration_event(event: DomainEvent, aggregate: Aggregate[Any]) -> IntegrationEvent | None:
    """The contract event to publish for `event` of `aggregate`, or None when nothing leaves the directory."""
    match event, aggregate:
        case events.ServiceReferralMade(), _:
            return contract.ServiceReferralMade(
                referral_id=event.referral_id,
                service_referral_id=event.service_referral_id,
                jurisdiction=event.jurisdiction,
                service_id=event.service_id,
                organization_id=event.organization_id,
                need=event.need,
                part2=event.part2,
                consent_id=event.consent_id,
                made_at=event.made_at,
            )
        case events.ServiceReferralStatusChanged(), ServiceReferral():
            assert aggregate.service_id is not None and aggregate.need is not None  # set when it was made
            return contract.ServiceReferralStatusChanged(
                referral_id=event.referral_id,
                service_referral_id=event.service_referral_id,
                jurisdiction=aggregate.jurisdiction,
                service_id=aggregate.service_id,
                need=aggregate.need,
                part2=aggregate.part2,
                previous_status=event.previous_status,
                status=event.status,
                reason=event.reason,
                changed_at=event.changed_at,
            )
        case _:
            return None
