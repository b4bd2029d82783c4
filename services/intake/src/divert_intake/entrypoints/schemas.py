"""Request and response bodies of intake's REST API (what RMS integrators code against)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from divert_contracts import referrals
from divert_contracts.referrals import ApproverRole, Pathway
from divert_contracts.timestamps import IsoDate, IsoDateTime
from divert_intake.domain import facts
from divert_intake.domain.approvals import APPROVAL_REASONS, DENIAL_REASONS, ApprovalOutcome
from divert_intake.domain.policy import MAX_EXCLUSIONS, PolicyVersion, ReasonMessage
from divert_platform.pagination import Cursor
from divert_platform.text import Code, JurisdictionId, free_text

ContactDriver = facts.ContactDriver
Status = Literal["pending_approval", "accepted", "declined", "assessed", "lapsed", "withdrawn"]

Conviction = Annotated[str, free_text(200)]
MAX_PRIOR_CONVICTIONS = 50
MAX_REASONS = MAX_EXCLUSIONS + 10
"""A decision gives at most every exclusion of its policy and each built-in reason once."""
MAX_PAGE = 500
"""The largest `limit` of `GET /v1/referrals`."""


# The request's offense and screening are the domain's, with bounds on what a caller may send (a
# caller's strings and lists are otherwise only capped by the body size). They keep the domain's
# names, so the OpenAPI document's `Offense` and `Screening` are these, limits included.
class Offense(facts.Offense):
    """The offense the officer has probable cause for (arrest diversion) or observed."""

    category: Annotated[str, free_text(200)] = Field(description="The policy's offense category.")
    statute: Annotated[str, free_text(200)] | None = None
    drug_quantity_grams: float | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False)
    drug_type: Annotated[str, free_text(200)] | None = None


class PriorConviction(facts.PriorConviction):
    """One prior conviction: a category of the policy's `[convictions]` and its dates."""

    category: Annotated[str, free_text(100, min_length=1)] = Field(
        description="One of the conviction categories the jurisdiction's policy lists "
        "(`GET /v1/jurisdictions/{id}`, `convictions`); any other is a 422 listing them."
    )
    convicted_on: IsoDate = Field(description="Not after the referral's date.")
    released_on: IsoDate | None = Field(
        None,
        description="Release from the sentence, if any (not before the conviction nor after the referral): "
        "the look-back counts from the later of the two dates.",
    )


class Screening(facts.Screening):
    """Criminal-justice screening facts: used for the decision, then discarded, never stored."""

    disqualifying_convictions: tuple[Conviction, ...] = Field(
        (),
        max_length=50,
        description="For a policy version without `convictions` only: any entry excludes, as the officer "
        "judged it. Non-empty for a version with `convictions` is a 422.",
    )
    prior_convictions: tuple[PriorConviction, ...] = Field(
        (),
        max_length=MAX_PRIOR_CONVICTIONS,
        description="For a policy version with `convictions` only: Divert computes which disqualify on the "
        "referral's date. Given to a version without `convictions`, a 422.",
    )


# The RMS reference, subject and location are the contract's (what intake publishes), with the
# control characters of free text refused at the API: what intake accepts is what it publishes.
class RmsReference(referrals.RmsReference):
    """Where the referral came from in the police records system."""

    agency: Annotated[str, free_text(64, min_length=1)]
    case_number: Annotated[str, free_text(64, min_length=1)]
    officer_id: Annotated[str, free_text(64, min_length=1)]


class Subject(referrals.Subject):
    """The person referred: who they are and how a case manager can reach them."""

    given_name: Annotated[str, free_text(200, min_length=1)]
    family_name: Annotated[str, free_text(200, min_length=1)]
    rms_person_id: Annotated[str, free_text(64)] | None = None
    phone: Annotated[str, free_text(32)] | None = None


class Location(referrals.Location):
    """Where the contact happened."""

    precinct: Annotated[str, free_text(100)] | None = None
    neighborhood: Annotated[str, free_text(100)] | None = None


class ReferralRequest(BaseModel):
    """An officer's referral, as the RMS submits it."""

    model_config = ConfigDict(extra="forbid")

    jurisdiction: JurisdictionId = Field(description="Jurisdiction policy id, e.g. `king-county`.")
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
    reason: Annotated[str, free_text(500, min_length=1)]


class ExtensionRequest(BaseModel):
    """A later assessment due time granted by the program manager, and why."""

    model_config = ConfigDict(extra="forbid")
    assessment_due_by: IsoDateTime
    reason: Annotated[str, free_text(500, min_length=1)]


class ReasonView(BaseModel):
    """Why a referral was declined: a stable code and the policy's plain sentence.

    Reasons resting on screening answers (e.g. `on_state_probation`) appear only in the response
    to the submission; everywhere else, a retry with the same `Idempotency-Key` included, they
    are one reason with the code `screening`.
    """

    code: Code = Field(description="A policy's reason code, or `screening` in place of screening reasons.")
    message: ReasonMessage


class DecisionView(BaseModel):
    """The eligibility decision and the policy version that made it."""

    eligible: bool
    policy: JurisdictionId
    policy_version: PolicyVersion
    reasons: list[ReasonView] = Field(max_length=MAX_REASONS)


class SubmittedReferral(BaseModel):
    """The answer to a submission: the decision, and the due time of an arrest diversion."""

    referral_id: UUID
    status: Literal["pending_approval", "accepted", "declined"] = Field(
        description="`pending_approval` where the policy requires a human decision: `decision` is then the "
        "rules' recommendation, and the referral is accepted or declined by its approver or, at `approval_due_by`, "
        "by the policy's rule."
    )
    jurisdiction: JurisdictionId
    pathway: Pathway
    decision: DecisionView
    assessment_due_by: datetime | None = Field(
        description="End of the assessment window in the jurisdiction's time zone (arrest diversions only; "
        "set at acceptance when the referral waits for approval)."
    )
    approval_due_by: datetime | None = Field(
        None, description="While `pending_approval`: when the policy's rule decides if nobody has."
    )


class ReferralStatusView(BaseModel):
    """The police status view of a referral: status only, never case content."""

    referral_id: UUID
    status: Status
    pathway: Pathway
    jurisdiction: JurisdictionId
    assessment_due_by: datetime | None = Field(description="In the jurisdiction's time zone; arrest diversions only.")
    assessed_on_time: bool | None = Field(description="Null until the assessment is recorded.")
    enrolled: bool
    warrant_requested: bool
    case_closed: bool = Field(description="The case agency closed the case (never why).")
    approval_due_by: datetime | None = Field(
        None, description="While `pending_approval`: when the policy's rule decides if nobody has."
    )


class ReferralPage(BaseModel):
    """One page of referrals, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[ReferralStatusView] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None


class ApprovalRequest(BaseModel):
    """The approver's decision on a referral waiting at its policy's gate."""

    model_config = ConfigDict(extra="forbid")

    decision: ApprovalOutcome = Field(description="`approve` accepts the referral, `deny` declines it.")
    reason_code: Code = Field(
        description="Why, as a code: to approve, one of "
        + ", ".join(APPROVAL_REASONS)
        + " (every code but meets_criteria may override a decline the rules recommended); to deny, one of "
        + ", ".join(DENIAL_REASONS)
        + "."
    )


class ApprovalView(BaseModel):
    """A referral waiting for its approver: status and the rules' recommendation only, never the
    person's details (prosecutors see no more than the police status view and the RMS reference)."""

    referral_id: UUID
    jurisdiction: JurisdictionId
    pathway: Pathway
    agency: Annotated[str, free_text(64)] = Field(description="The referring agency (RMS).")
    case_number: Annotated[str, free_text(64)] = Field(description="The RMS case number.")
    referred_at: datetime
    approver: ApproverRole
    approval_due_by: datetime = Field(description="When the policy's rule decides if nobody has.")
    recommendation: DecisionView = Field(description="What the jurisdiction's rules decided.")


class ApprovalPage(BaseModel):
    """One page of the approval queue, soonest due first; pass `next_cursor` as `cursor` for the next."""

    items: list[ApprovalView] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None
