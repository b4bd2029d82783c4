"""Request and response bodies of suggestions, service referrals and capacity (case-agency routes)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_directory.domain.matching import AreaMatch, ReasonCode


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceReferralRequest(_Request):
    """Refer a case's person to a service of the directory for one of their needs."""

    referral_id: UUID = Field(description="The case (its referral id) whose person is referred.")
    service_id: UUID = Field(description="The HSDS service to refer to (from suggestions or the catalogue).")
    need: NeedDomain = Field(description="The need the service is to meet; one of the service's taxonomy terms.")


class StatusChangeRequest(_Request):
    """The provider's answer (`accepted`, `declined` with a reason) or the outcome (`completed`, `no_show`)."""

    status: Literal["accepted", "declined", "completed", "no_show"]
    reason: ServiceReferralDeclineReason | None = Field(None, description="Why it was declined: declines only.")


class CapacityRequest(_Request):
    """Whether the service is full (`true`) or has room again (`false`)."""

    at_capacity: StrictBool


class StatusStep(BaseModel):
    """One status the service referral took, when, why and who recorded it."""

    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    at: datetime
    actor: str | None
    role: str | None
    agency: str | None


class ServiceReferralView(BaseModel):
    """A service referral with its whole history, oldest step first."""

    service_referral_id: UUID
    referral_id: UUID
    jurisdiction: str
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool = Field(description="The need is 42 CFR Part 2 protected: made under a `part2` consent.")
    consent_id: UUID = Field(description="The consent the referral was made under.")
    status: ServiceReferralStatus
    next_statuses: list[ServiceReferralStatus] = Field(description="Where the status may go next (empty when final).")
    made_at: datetime
    updated_at: datetime
    history: list[StatusStep]


class ServiceReferralList(BaseModel):
    """Every service referral of one case, oldest first."""

    referral_id: UUID
    items: list[ServiceReferralView]


class NeedView(BaseModel):
    """A need of the case's latest assessment (priority 1 is the most urgent)."""

    domain: NeedDomain
    priority: int
    part2: bool


class ReasonView(BaseModel):
    """Why a service is suggested where it is: a stable code and a sentence."""

    code: ReasonCode
    detail: str


class SuggestionView(BaseModel):
    """A service suggested for the case, with the reasons for its place."""

    rank: int = Field(description="1 for the best suggestion.")
    service_id: UUID
    name: str
    organization_id: UUID
    organization_name: str
    needs_met: list[NeedView] = Field(description="The case's needs the service meets, most urgent first.")
    area: AreaMatch
    at_capacity: bool
    reasons: list[ReasonView]


class SuggestionList(BaseModel):
    """The jurisdiction's services ranked for the case's latest needs, best first."""

    referral_id: UUID
    jurisdiction: str
    postcode: str | None = Field(description="The postal code the ranking used, as given.")
    assessed_at: datetime | None = Field(description="When the needs ranked for were assessed; null before any.")
    needs: list[NeedView]
    case_closed: bool
    suggestions: list[SuggestionView]


class CapacityView(BaseModel):
    """Whether a service is marked at capacity, and since when (never marked: has room, no time)."""

    service_id: UUID
    at_capacity: bool
    marked_at: datetime | None
    marked_by: str | None
