"""Events intake publishes on `divert.referrals`.

Referral events carry the subject's identity and contact details, because case agencies must be
able to reach the person, but never criminal-history screening facts (docs/domain.md#screening-facts).
"""

from typing import Literal

from pydantic import Field

from divert_contracts.base import ContractModel, IntegrationEvent
from divert_contracts.timestamps import Instant, IsoDate
from divert_contracts.topics import REFERRALS

Pathway = Literal["arrest_diversion", "social_contact", "community"]
LapseAction = Literal["warrant_request", "return_for_charging"]
ApproverRole = Literal["prosecutor", "program_manager"]
"""Who decides a referral held at its policy's approval gate."""
MAX_REMINDERS = 10
"""At most this many reminders before one assessment due time."""


class RmsReference(ContractModel):
    """Where the referral came from in the police records system."""

    agency: str = Field(min_length=1, max_length=64)
    case_number: str = Field(min_length=1, max_length=64)
    officer_id: str = Field(min_length=1, max_length=64)


class Subject(ContractModel):
    """The person referred: who they are and how a case manager can reach them."""

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: IsoDate | None = None
    rms_person_id: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)


class Location(ContractModel):
    """Where the contact happened."""

    precinct: str | None = Field(None, max_length=100)
    neighborhood: str | None = Field(None, max_length=100)


class ReferralAccepted(IntegrationEvent):
    """An eligible referral was accepted; a case agency should open a case and reach the person."""

    event_type = "org.divert.referral.accepted.v1"
    topic = REFERRALS.name

    jurisdiction: str = Field(max_length=64)
    pathway: Pathway
    referred_at: Instant
    policy: str
    policy_version: str
    assessment_due_by: Instant | None = Field(
        description="When the intake assessment must be complete; only arrest diversions have one."
    )
    lapse_action: LapseAction | None
    rms: RmsReference
    subject: Subject
    location: Location
    offense_category: str | None
    contact_drivers: tuple[str, ...] = ()
    offense_statute: str | None = Field(
        None, max_length=200, description="The statute the officer cited, as given; absent from earlier events."
    )
    assessment_reminders_at: tuple[Instant, ...] = Field(
        (),
        max_length=MAX_REMINDERS,
        description=(
            "When the case agency will be reminded that the assessment is due, earliest first: arrest "
            "diversions whose policy sets reminders; empty otherwise and in earlier events."
        ),
    )


class ReferralAssessmentDeadlineLapsed(IntegrationEvent):
    """The assessment window of an arrest diversion closed without an assessment."""

    event_type = "org.divert.referral.assessment_deadline_lapsed.v1"
    topic = REFERRALS.name

    jurisdiction: str
    assessment_due_by: Instant
    lapsed_at: Instant
    lapse_action: LapseAction


class ReasonCode(ContractModel):
    """Why a referral was declined: a stable code and the policy's plain sentence.

    A reason resting on the offense or the contact (e.g. `offense_not_eligible`,
    `drug_quantity_over_limit`, `under_minimum_age`) is given as the policy states it. Reasons
    resting on criminal-justice screening facts (convictions, probation, court cases, ...) are
    never published: one reason with the code `screening` stands for all of them.
    """

    code: str
    message: str


class ReferralDeclined(IntegrationEvent):
    """A referral failed its jurisdiction's rules. It carries no personal data: programs count it.

    No screening fact either: `reasons` says only *that* the referral did not pass screening (code
    `screening`), beside the policy id and version that decided it.
    """

    event_type = "org.divert.referral.declined.v1"
    topic = REFERRALS.name

    jurisdiction: str = Field(max_length=64)
    pathway: Pathway
    referred_at: Instant
    policy: str
    policy_version: str
    reasons: tuple[ReasonCode, ...] = Field(min_length=1)
    agency: str = Field(max_length=64)
    precinct: str | None = Field(None, max_length=100)


class ReferralApprovalRequested(IntegrationEvent):
    """A referral awaits a human decision before it is accepted or declined (the policy's approval gate).

    Status only: no subject, no screening facts.
    """

    event_type = "org.divert.referral.approval_requested.v1"
    topic = REFERRALS.name

    jurisdiction: str = Field(max_length=64)
    pathway: Pathway
    referred_at: Instant
    policy: str = Field(max_length=64)
    policy_version: str = Field(max_length=64)
    approver: ApproverRole
    decide_by: Instant = Field(description="When the policy's default applies if nobody has decided.")
    requested_at: Instant


class ReferralWithdrawn(IntegrationEvent):
    """The referring agency withdrew the referral (e.g. officer error); its clock stops for good."""

    event_type = "org.divert.referral.withdrawn.v1"
    topic = REFERRALS.name

    jurisdiction: str
    withdrawn_at: Instant
    reason: str = Field(max_length=500)


class ReferralDeadlineExtended(IntegrationEvent):
    """The program manager moved the assessment due time later."""

    event_type = "org.divert.referral.deadline_extended.v1"
    topic = REFERRALS.name

    jurisdiction: str
    previous_due_by: Instant
    assessment_due_by: Instant
    reason: str = Field(max_length=500)
    extended_at: Instant
    assessment_reminders_at: tuple[Instant, ...] = Field(
        (),
        max_length=MAX_REMINDERS,
        description=(
            "All reminders still to come after the extension, earliest first, computed from the new due "
            "time; empty in earlier events."
        ),
    )


class ReferralAssessmentDueSoon(IntegrationEvent):
    """An arrest diversion's assessment is due soon: a reminder the policy sets. Status only."""

    event_type = "org.divert.referral.assessment_due_soon.v1"
    topic = REFERRALS.name

    jurisdiction: str = Field(max_length=64)
    assessment_due_by: Instant
    reminded_at: Instant
    days_before: int = Field(ge=0, le=365, description="The policy's reminder offset that raised this reminder.")
    next_reminder_at: Instant | None = Field(description="The next reminder still to come, if any.")
