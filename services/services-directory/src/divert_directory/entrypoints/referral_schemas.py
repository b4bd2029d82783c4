"""Request and response bodies of suggestions, service referrals and capacity (case-agency routes)."""

from datetime import datetime
from typing import Annotated, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_directory.domain.matching import AreaMatch, ReasonCode
from divert_platform.audit import Actor, Agency
from divert_platform.text import Code, JurisdictionId, Name, free_text

MAX_NEEDS = len(get_args(NeedDomain))
"""A case's latest assessment names each need domain at most once (checked where the needs arrive)."""
MAX_HISTORY = len(get_args(ServiceReferralStatus))
"""A service referral's statuses never repeat (`sent`, then an answer, then an outcome)."""
MAX_SERVICE_REFERRALS = 500
"""The most service referrals one page of a case's list holds; `next_offset` leads to the rest."""
MAX_OFFSET = 1_000_000
MAX_SUGGESTIONS = 100
"""Suggestions are the best this many services; a case manager reads the top of the list."""


PostalCode = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$")]


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
    actor: Actor | None
    role: Code | None
    agency: Agency | None


class ServiceReferralView(BaseModel):
    """A service referral with its whole history, oldest step first."""

    service_referral_id: UUID
    referral_id: UUID
    jurisdiction: JurisdictionId
    service_id: UUID
    organization_id: UUID
    need: NeedDomain
    part2: bool = Field(description="The need is 42 CFR Part 2 protected: made under a `part2` consent.")
    consent_id: UUID = Field(description="The consent the referral was made under.")
    status: ServiceReferralStatus
    next_statuses: list[ServiceReferralStatus] = Field(
        max_length=MAX_HISTORY, description="Where the status may go next (empty when final)."
    )
    made_at: datetime
    updated_at: datetime
    history: list[StatusStep] = Field(max_length=MAX_HISTORY)


class ServiceReferralList(BaseModel):
    """A page of the service referrals of one case, oldest first; pass `next_offset` as `offset` for the next."""

    referral_id: UUID
    items: list[ServiceReferralView] = Field(max_length=MAX_SERVICE_REFERRALS)
    next_offset: int | None = Field(
        None, ge=0, le=MAX_OFFSET + MAX_SERVICE_REFERRALS, description="Where the next page starts; null on the last."
    )


class NeedView(BaseModel):
    """A need of the case's latest assessment (priority 1 is the most urgent)."""

    domain: NeedDomain
    priority: int = Field(ge=1, le=10)
    part2: bool


class ReasonView(BaseModel):
    """Why a service is suggested where it is: a stable code and a sentence."""

    code: ReasonCode
    detail: Annotated[str, free_text(200)]


class SuggestionView(BaseModel):
    """A service suggested for the case, with the reasons for its place."""

    rank: int = Field(ge=1, le=MAX_SUGGESTIONS, description="1 for the best suggestion.")
    service_id: UUID
    name: Name
    organization_id: UUID
    organization_name: Name
    needs_met: list[NeedView] = Field(
        max_length=MAX_NEEDS, description="The case's needs the service meets, most urgent first."
    )
    area: AreaMatch
    at_capacity: bool
    reasons: list[ReasonView] = Field(max_length=MAX_NEEDS + 2, description="One per need met, the area, capacity.")


class SuggestionList(BaseModel):
    """The jurisdiction's services ranked for the case's latest needs, best first."""

    referral_id: UUID
    jurisdiction: JurisdictionId
    postcode: PostalCode | None = Field(description="The postal code the ranking used, as given.")
    assessed_at: datetime | None = Field(description="When the needs ranked for were assessed; null before any.")
    needs: list[NeedView] = Field(max_length=MAX_NEEDS)
    case_closed: bool
    suggestions: list[SuggestionView] = Field(
        max_length=MAX_SUGGESTIONS, description=f"The best {MAX_SUGGESTIONS} at most."
    )


class CapacityView(BaseModel):
    """Whether a service is marked at capacity, and since when (never marked: has room, no time)."""

    service_id: UUID
    at_capacity: bool
    marked_at: datetime | None
    marked_by: Actor | None
