"""Commands to the service-referral aggregate: what a case manager asks for."""

from dataclasses import dataclass
from uuid import UUID

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus


@dataclass(frozen=True)
class MakeServiceReferral:
    """Refer the case's person to a service for one need (consent and catalogue already checked)."""

    service_referral_id: UUID
    referral_id: UUID
    jurisdiction: str
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool
    consent_id: UUID


@dataclass(frozen=True)
class ChangeServiceReferralStatus:
    """Record the provider's answer or the referral's outcome; `reason` only with `declined`."""

    service_referral_id: UUID
    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None = None
