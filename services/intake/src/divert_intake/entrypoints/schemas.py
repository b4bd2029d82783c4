"""Request and response bodies of intake's REST API (what RMS integrators code against)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from divert_contracts.referrals import Location, Pathway, RmsReference, Subject
from divert_intake.domain.facts import Offense, Screening

ContactDriver = Literal["drug_use", "mental_illness", "poverty"]


class ReferralRequest(BaseModel):
    """An officer's referral, as the RMS submits it."""

    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(description="Jurisdiction policy id, e.g. `king-county`.", max_length=64)
    pathway: Pathway
    referred_at: AwareDatetime = Field(description="When the officer made the referral, with its UTC offset.")
    rms: RmsReference
    subject: Subject
    location: Location = Location()
    offense: Offense
    screening: Screening = Field(description="Used for the eligibility decision, then discarded; never stored.")
    contact_drivers: list[ContactDriver] = Field(default_factory=list)


class ReasonView(BaseModel):
    """Why a referral is not eligible."""

    code: str
    message: str


class DecisionView(BaseModel):
    """The eligibility decision and the policy version that made it."""

    eligible: bool
    policy: str
    policy_version: str
    reasons: list[ReasonView]


class RmsView(BaseModel):
    """The RMS reference the referral was filed under."""

    agency: str
    case_number: str


class ReferralView(BaseModel):
    """The police status view of a referral: status only, never case content."""

    referral_id: UUID
    status: Literal["accepted", "ineligible", "assessed", "lapsed"]
    jurisdiction: str
    pathway: Pathway
    rms: RmsView
    decision: DecisionView
    referred_at: datetime
    assessment_due_by: datetime | None = Field(
        description="End of the assessment window in the jurisdiction's time zone (arrest diversions only)."
    )
    assessed_on_time: bool | None = None
