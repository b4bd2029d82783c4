"""The directory's domain events, as stored in its event store.

They stay inside the directory; `service_layer/integration.py` maps them to the published
contracts. They hold ids, codes and times only.
"""

from datetime import datetime
from uuid import UUID

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_platform.aggregate import DomainEvent


class ServiceReferralEvent(DomainEvent):
    """Something that happened to one service referral of a case."""

    service_referral_id: UUID
    referral_id: UUID


class ServiceReferralMade(ServiceReferralEvent):
    """A case manager referred the case's person to a service for one need, under a consent."""

    jurisdiction: str
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool
    consent_id: UUID
    made_at: datetime


class ServiceReferralStatusChanged(ServiceReferralEvent):
    """The service referral moved on: accepted or declined by the provider, then completed or missed."""

    previous_status: ServiceReferralStatus
    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    changed_at: datetime


class ServiceCapacityMarked(DomainEvent):
    """A service was marked at capacity, or as having room again.

    `service_referral_id` names the declined referral (reason `no_capacity`) that marked it full,
    when that is how it happened.
    """

    service_id: UUID
    at_capacity: bool
    marked_at: datetime
    service_referral_id: UUID | None = None
