"""Events the services directory publishes on `divert.directory`: closed-loop service referrals.

A service referral sends a case's person to one service of the catalogue for one need, under a
consent naming the service's organization; the provider then accepts or declines it, and an
accepted one ends completed or as a no-show. Events carry ids, codes, statuses and reasons only
(no names, no free text). Like every Divert event they are keyed by the referral (case) id, so a
case's service referrals stay in order with the rest of its events; a referral made for a need
that 42 CFR Part 2 protects is labelled `part2` so consumers can filter it.
"""

from typing import Literal
from uuid import UUID

from pydantic import Field

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import NeedDomain
from divert_contracts.timestamps import Instant
from divert_contracts.topics import DIRECTORY

ServiceReferralStatus = Literal["sent", "accepted", "declined", "completed", "no_show"]
"""`sent` → `accepted` | `declined`; `accepted` → `completed` | `no_show`. The last three are final."""
ServiceReferralDeclineReason = Literal["no_capacity", "not_eligible", "other"]
"""Why a provider declined a service referral."""


class ServiceReferralMade(IntegrationEvent):
    """A case manager referred the person to a service for one need, under a consent naming its organization."""

    event_type = "org.divert.directory.service_referral_made.v1"
    topic = DIRECTORY.name

    service_referral_id: UUID
    jurisdiction: str = Field(max_length=64)
    service_id: UUID = Field(description="The HSDS service referred to.")
    organization_id: UUID = Field(description="The HSDS organization providing the service.")
    need: NeedDomain
    part2: bool = Field(description="True when the need is 42 CFR Part 2 protected information.")
    consent_id: UUID = Field(description="The consent the referral was made under.")
    made_at: Instant


class ServiceReferralStatusChanged(IntegrationEvent):
    """The provider accepted or declined a service referral, or an accepted one was completed or missed."""

    event_type = "org.divert.directory.service_referral_status_changed.v1"
    topic = DIRECTORY.name

    service_referral_id: UUID
    jurisdiction: str = Field(max_length=64)
    service_id: UUID
    need: NeedDomain
    part2: bool = Field(description="True when the referral's need is 42 CFR Part 2 protected information.")
    previous_status: ServiceReferralStatus
    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None = Field(None, description="Why it was declined (declines only).")
    changed_at: Instant
