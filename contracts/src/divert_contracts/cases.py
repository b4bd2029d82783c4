"""Events the assessment service publishes on `divert.cases`.

Case events carry need categories, never free-text clinical notes; a need derived from
substance-use treatment is labelled `part2` (42 CFR Part 2) so consumers can filter it.
"""

from typing import Literal
from uuid import UUID

from pydantic import Field

from divert_contracts.base import ContractModel, IntegrationEvent
from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import Instant
from divert_contracts.topics import CASES

NeedDomain = Literal[
    "housing",
    "food",
    "substance_use_treatment",
    "mental_health",
    "medical",
    "income_benefits",
    "id_documents",
    "legal",
    "employment",
    "transportation",
    "phone",
]

PART2_DOMAINS: frozenset[str] = frozenset({"substance_use_treatment"})
"""Need domains whose information is protected by 42 CFR Part 2."""


class Need(ContractModel):
    """One need found at assessment, with its priority (1 = most urgent)."""

    domain: NeedDomain
    priority: int = Field(ge=1, le=10)
    part2: bool = Field(description="True when the need is 42 CFR Part 2 protected information.")


class CaseOpened(IntegrationEvent):
    """A case agency opened a case for an accepted referral; it is pending assessment."""

    event_type = "org.divert.case.opened.v1"
    topic = CASES.name

    jurisdiction: str
    pathway: Pathway
    opened_at: Instant
    assessment_due_by: Instant | None
    referred_at: Instant | None = Field(None, description="When the officer referred (for time-to-contact reports).")
    previous_referral_id: UUID | None = Field(
        None, description="The earlier, closed case of the same person when this is a re-referral."
    )


class CaseAssessmentCompleted(IntegrationEvent):
    """The intake assessment was completed: the event that stops an arrest diversion's clock."""

    event_type = "org.divert.case.assessment_completed.v1"
    topic = CASES.name

    jurisdiction: str
    completed_at: Instant
    assessment_due_by: Instant | None
    on_time: bool = Field(description="Completed at or before the due time (always true without one).")
    needs: tuple[Need, ...]


ContactMethod = Literal["in_person", "phone", "text", "email", "outreach", "other"]
ContactOutcome = Literal["attempted", "made"]
DeclineReason = Literal["not_interested", "unreachable", "already_served_elsewhere", "other"]
CloseReason = Literal["moved_away", "deceased", "transferred", "declined", "long_term_no_contact", "program_decision"]
Engagement = Literal["active", "inactive"]
ConsentPurpose = Literal[
    "care_coordination", "service_referral", "housing_application", "benefits_application", "legal_advocacy"
]
ConsentScope = Literal["contact_details", "program_status", "assessment_needs", "full_case"]
"""What a consent lets the case agency share, from least to most."""


class CaseManagerAssigned(IntegrationEvent):
    """A case manager took the case."""

    event_type = "org.divert.case.manager_assigned.v1"
    topic = CASES.name

    jurisdiction: str
    case_manager_id: str = Field(max_length=64)
    agency: str | None = Field(None, max_length=64)
    assigned_at: Instant


class CaseContactRecorded(IntegrationEvent):
    """A contact with the person was attempted or made; the first one made is the warm hand-off."""

    event_type = "org.divert.case.contact_recorded.v1"
    topic = CASES.name

    jurisdiction: str
    contact_id: UUID
    at: Instant
    method: ContactMethod
    outcome: ContactOutcome
    first_made: bool = Field(description="True for the first contact actually made (the warm hand-off).")


class CaseConsentRecorded(IntegrationEvent):
    """The person consented to share their information with the named parties for a purpose."""

    event_type = "org.divert.case.consent_recorded.v1"
    topic = CASES.name

    jurisdiction: str
    consent_id: UUID
    parties: tuple[str, ...] = Field(min_length=1, description="Named recipients, e.g. organisation ids.")
    purpose: ConsentPurpose
    scope: ConsentScope
    part2: bool = Field(description="Covers 42 CFR Part 2 substance-use-treatment information.")
    recorded_at: Instant
    expires_at: Instant


class CaseConsentRevoked(IntegrationEvent):
    """The person revoked a consent; sharing under it stops."""

    event_type = "org.divert.case.consent_revoked.v1"
    topic = CASES.name

    jurisdiction: str
    consent_id: UUID
    revoked_at: Instant


class CaseParticipantEnrolled(IntegrationEvent):
    """The person enrolled in the program."""

    event_type = "org.divert.case.participant_enrolled.v1"
    topic = CASES.name

    jurisdiction: str
    enrolled_at: Instant


class CaseParticipantDeclined(IntegrationEvent):
    """The person chose not to enroll."""

    event_type = "org.divert.case.participant_declined.v1"
    topic = CASES.name

    jurisdiction: str
    declined_at: Instant
    reason: DeclineReason


class CaseEngagementChanged(IntegrationEvent):
    """An enrolled participant became active or inactive (people do not "fail out")."""

    event_type = "org.divert.case.engagement_changed.v1"
    topic = CASES.name

    jurisdiction: str
    engagement: Engagement
    changed_at: Instant


class CaseClosed(IntegrationEvent):
    """The case was closed, with a reason code."""

    event_type = "org.divert.case.closed.v1"
    topic = CASES.name

    jurisdiction: str
    reason: CloseReason
    closed_at: Instant


class CaseReopened(IntegrationEvent):
    """A closed case was opened again."""

    event_type = "org.divert.case.reopened.v1"
    topic = CASES.name

    jurisdiction: str
    reopened_at: Instant
