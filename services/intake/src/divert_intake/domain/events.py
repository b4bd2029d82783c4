"""Intake's domain events: what happened to a referral, as stored in intake's event store.

They stay inside intake; `service_layer/integration.py` maps them to the published contracts.
Screening facts never appear here: only the decision and its reason codes.
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_contracts.referrals import LapseAction, Location, Pathway, RmsReference, Subject


class DomainEvent(BaseModel):
    """Base of intake's domain events; `name` is the stored event type."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]

    referral_id: UUID


class ReasonRecord(BaseModel):
    """A reason code with its sentence, as recorded with a decision."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str


class ReferralAccepted(DomainEvent):
    name = "ReferralAccepted"

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    policy: str
    policy_version: str
    assessment_due_by: datetime | None
    lapse_action: LapseAction | None
    rms: RmsReference
    subject: Subject
    location: Location
    offense_category: str | None
    offense_statute: str | None
    contact_drivers: tuple[str, ...]


class ReferralDeclined(DomainEvent):
    """Recorded without the subject's details: a declined referral goes no further."""

    name = "ReferralDeclined"

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    policy: str
    policy_version: str
    reasons: tuple[ReasonRecord, ...]
    rms: RmsReference
    precinct: str | None = None


class AssessmentRecorded(DomainEvent):
    name = "AssessmentRecorded"

    completed_at: datetime
    on_time: bool


class AssessmentDeadlineLapsed(DomainEvent):
    name = "AssessmentDeadlineLapsed"

    jurisdiction: str
    assessment_due_by: datetime
    lapsed_at: datetime
    lapse_action: LapseAction


class ReferralWithdrawn(DomainEvent):
    name = "ReferralWithdrawn"

    jurisdiction: str
    reason: str
    withdrawn_at: datetime


class DeadlineExtended(DomainEvent):
    name = "DeadlineExtended"

    jurisdiction: str
    previous_due_by: datetime
    assessment_due_by: datetime
    reason: str
    extended_at: datetime


class WarrantRequestNoted(DomainEvent):
    """The warrants service reported a request for this referral (shown to police as yes/no)."""

    name = "WarrantRequestNoted"

    warrant_request_id: UUID


class WarrantRescissionNoted(DomainEvent):
    """The warrants service rescinded the request (the police view goes back to "no")."""

    name = "WarrantRescissionNoted"

    warrant_request_id: UUID


class EnrollmentNoted(DomainEvent):
    """The case agency enrolled the person (police see only "enrolled: yes")."""

    name = "EnrollmentNoted"

    enrolled_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        ReferralAccepted,
        ReferralDeclined,
        ReferralWithdrawn,
        DeadlineExtended,
        AssessmentRecorded,
        AssessmentDeadlineLapsed,
        WarrantRequestNoted,
        WarrantRescissionNoted,
        EnrollmentNoted,
    )
}
