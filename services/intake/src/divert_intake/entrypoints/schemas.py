"""Request and response bodies of intake's REST API (what RMS integrators code against)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from divert_contracts.referrals import Location, Pathway, RmsReference, Subject
from divert_contracts.timestamps import IsoDateTime
from divert_intake.domain import facts

ContactDriver = Literal["drug_use", "mental_illness", "poverty"]
Status = Literal["accepted", "declined", "assessed", "lapsed", "withdrawn"]

Conviction = Annotated[str, StringConstraints(max_length=200)]


# The request's offense and screening are the domain's, with bounds on what a caller may send (a
# caller's strings and lists are otherwise only capped by the body size). They keep the domain's
# names, so the OpenAPI document's `Offense` and `Screening` are these, limits included.
class Offense(facts.Offense):
    """The offense the officer has probable cause for (arrest diversion) or observed."""

    category: str = Field(max_length=200, description="The policy's offense category.")
    statute: str | None = Field(None, max_length=200)
    drug_quantity_grams: float | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False)
    drug_type: str | None = Field(None, max_length=200)


class Screening(facts.Screening):
    """Criminal-justice screening facts: used for the decision, then discarded, never stored."""

    disqualifying_convictions: tuple[Conviction, ...] = Field((), max_length=50)


class ReferralRequest(BaseModel):
    """An officer's referral, as the RMS submits it."""

    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(description="Jurisdiction policy id, e.g. `king-county`.", max_length=64)
    pathway: Pathway
    referred_at: IsoDateTime = Field(
        description="When the officer made the referral, with its UTC offset. May be in the past (back-entry), "
        "never in the future or before the jurisdiction's first policy took effect."
    )
    rms: RmsReference
    subject: Subject
    location: Location = Location()
    offense: Offense | None = Field(None, description="Required for arrest diversions.")
    screening: Screening = Field(description="Used for the eligibility decision, then discarded; never stored.")
    contact_drivers: list[ContactDriver] = Field(default_factory=list, max_length=3)


class WithdrawalRequest(BaseModel):
    """Why the referring agency withdraws the referral (e.g. officer error)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class ExtensionRequest(BaseModel):
    """A later assessment due time granted by the program manager, and why."""

    model_config = ConfigDict(extra="forbid")
    assessment_due_by: IsoDateTime
    reason: str = Field(min_length=1, max_length=500)


class ReasonView(BaseModel):
    """Why a referral was declined: a stable code and the policy's plain sentence.

    Reasons resting on screening answers (e.g. `on_state_probation`) appear only in the response
    to the submission; everywhere else, a retry with the same `Idempotency-Key` included, they
    are one reason with the code `screening`.
    """

    code: str = Field(description="A policy's reason code, or `screening` in place of screening reasons.")
    message: str


class DecisionView(BaseModel):
    """The eligibility decision and the policy version that made it."""

    eligible: bool
    policy: str
    policy_version: str
    reasons: list[ReasonView]


class SubmittedReferral(BaseModel):
    """The answer to a submission: the decision, and the due time of an arrest diversion."""

    referral_id: UUID
    status: Literal["accepted", "declined"]
    jurisdiction: str
    pathway: Pathway
    decision: DecisionView
    assessment_due_by: datetime | None = Field(
        description="End of the assessment window in the jurisdiction's time zone (arrest diversions only)."
    )


class ReferralStatusView(BaseModel):
    """The police status view of a referral: status only, never case content."""

    referral_id: UUID
    status: Status
    pathway: Pathway
    jurisdiction: str
    assessment_due_by: datetime | None = Field(description="In the jurisdiction's time zone; arrest diversions only.")
    assessed_on_time: bool | None = Field(description="Null until the assessment is recorded.")
    enrolled: bool
    warrant_requested: bool


class ReferralPage(BaseModel):
    """One page of referrals, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[ReferralStatusView]
    next_cursor: str | None
