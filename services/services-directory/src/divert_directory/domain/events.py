"""The directory's domain events, as stored in its event store.

They stay inside the directory; `service_layer/integration.py` maps them to the published
contracts. They hold ids, codes and times only.
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus


class DomainEvent(BaseModel):
    """Base of the directory's domain events; `name` is the stored event type."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]


class ServiceReferralMade(DomainEvent):
    """A case manager referred the case's person to a service for one need, under a consent."""

    name = "ServiceReferralMade"

    service_referral_id: UUID
    referral_id: UUID
    jurisdiction: str
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool
    consent_id: UUID
    made_at: datetime


class ServiceReferralStatusChanged(DomainEvent):
    """The service referral moved on: accepted or declined by the provider, then completed or missed."""

    name = "ServiceReferralStatusChanged"

    service_referral_id: UUID
    referral_id: UUID
    previous_status: ServiceReferralStatus
    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    changed_at: datetime


class ServiceCapacityMarked(DomainEvent):
    """A service was marked at capacity, or as having room again.

    `service_referral_id` names the declined referral (reason `no_capacity`) that marked it full,
    when that is how it happened.
    """

    name = "ServiceCapacityMarked"

    service_id: UUID
    at_capacity: bool
    marked_at: datetime
    service_referral_id: UUID | None = None


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls for cls in (ServiceReferralMade, ServiceReferralStatusChanged, ServiceCapacityMarked)
}
