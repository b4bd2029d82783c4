"""Events intake publishes on `divert.referrals`.

Referral events carry the subject's identity and contact details, because case agencies must be
able to reach the person, but never criminal-history screening facts (DOMAIN.md §4).
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from divert_contracts.base import ContractModel, IntegrationEvent
from divert_contracts.topics import REFERRALS

Pathway = Literal["arrest_diversion", "social_contact", "community"]
LapseAction = Literal["warrant_request", "return_for_charging"]


class RmsReference(ContractModel):
    """Where the referral came from in the police records system."""

    agency: str
    case_number: str
    officer_id: str


class Subject(ContractModel):
    """The person referred: who they are and how a case manager can reach them."""

    given_name: str
    family_name: str
    date_of_birth: date | None = None
    rms_person_id: str | None = None
    phone: str | None = None


class Location(ContractModel):
    """Where the contact happened."""

    precinct: str | None = None
    neighborhood: str | None = None


class ReferralAccepted(IntegrationEvent):
    """An eligible referral was accepted; a case agency should open a case and reach the person."""

    event_type = "org.divert.referral.accepted.v1"
    topic = REFERRALS.name

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    policy: str
    policy_version: str
    assessment_due_by: datetime | None = Field(
        description="When the intake assessment must be complete; only arrest diversions have one."
    )
    lapse_action: LapseAction | None
    rms: RmsReference
    subject: Subject
    location: Location
    offense_category: str | None
    contact_drivers: tuple[str, ...] = ()


class ReferralAssessmentDeadlineLapsed(IntegrationEvent):
    """The assessment window of an arrest diversion closed without an assessment."""

    event_type = "org.divert.referral.assessment_deadline_lapsed.v1"
    topic = REFERRALS.name

    jurisdiction: str
    assessment_due_by: datetime
    lapsed_at: datetime
    lapse_action: LapseAction
