"""Commands the directory takes: what a case manager or program manager asks to happen, before the
directory judges it.

Each carries the moment it was issued (`at`): aggregates never read a clock, so a command means
the same thing however late it is handled. `agency` is the case agency a case manager acts for:
only the cases that agency owns are visible to it (None: no case is).
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus


@dataclass(frozen=True)
class ReferToService:
    """A case manager asks to refer the case's person to a service for one need."""

    service_referral_id: UUID
    referral_id: UUID
    service_id: UUID
    need: NeedDomain
    agency: str | None
    at: datetime


@dataclass(frozen=True)
class MakeServiceReferral:
    """Record the referral (the service and the consent already checked)."""

    service_referral_id: UUID
    referral_id: UUID
    jurisdiction: str
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool
    consent_id: UUID
    at: datetime


@dataclass(frozen=True)
class ChangeServiceReferralStatus:
    """Record the provider's answer or the referral's outcome; `reason` only with `declined`."""

    service_referral_id: UUID
    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    agency: str | None
    at: datetime


@dataclass(frozen=True)
class MarkServiceCapacity:
    """Say whether a service is full (`at_capacity`) or has room again.

    `role` is the caller's (`case_manager` or `program_manager`); `agency` and `jurisdiction` are
    its token's scope, which decides the services it may mark.
    """

    service_id: UUID
    at_capacity: bool
    role: str
    agency: str | None
    jurisdiction: str | None
    at: datetime
