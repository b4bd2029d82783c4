"""Assessment's domain events: what happened to a case, as stored in assessment's event store.

They stay inside assessment; `service_layer/integration.py` maps them to the published contracts.
They hold codes, ids and times only (need categories, consent purposes and scopes, decline and
close reasons): there is no place for free-text clinical notes. Every event carries the case's
jurisdiction so it can be published without reading the rest of the stream.
"""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_assessment.domain.status import CaseStatus
from divert_contracts.cases import (
    CloseReason,
    ConsentPurpose,
    ConsentScope,
    ContactMethod,
    ContactOutcome,
    DeclineReason,
    Engagement,
    NeedDomain,
)
from divert_contracts.referrals import Pathway, Subject
from divert_platform.aggregate import DomainEvent


class CaseEvent(DomainEvent):
    """Something that happened to one referral's case (stored under its class name)."""

    referral_id: UUID
    jurisdiction: str


class CaseOpened(CaseEvent):
    """A case was opened for an accepted referral, with what a case manager needs to reach the person."""

    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None
    opened_at: datetime
    subject: Subject
    rms_agency: str
    previous_referral_id: UUID | None = None
    agency: str | None = None
    """The case agency that owns the case: the one serving its jurisdiction when it was opened
    (None when none was configured, and in events recorded before owning agencies existed)."""
    assessment_reminders_at: tuple[datetime, ...] = ()
    """When the case agency will be reminded that the assessment is due, earliest first (empty
    without reminders, and in events recorded before reminders existed)."""
    precinct: str | None = None
    """The precinct of the referral's contact, as the officer gave it (None when not given, and in
    events recorded before program reports broke cases down by precinct)."""
    policy_version: str | None = None
    """The version of the jurisdiction's policy that accepted the referral (None in events
    recorded before program reports broke cases down by it)."""


class AssessmentReminded(CaseEvent):
    """The case agency was reminded that the assessment is due soon (intake's reminder, `days_before`
    the due time it names, which is the case's due time when recorded)."""

    reminded_at: datetime
    days_before: int
    assessment_due_by: datetime


class AssessmentDeadlineExtended(CaseEvent):
    """The assessment's due time moved later; the reminders still to come moved with it (all of them)."""

    previous_due_by: datetime
    assessment_due_by: datetime
    extended_at: datetime
    assessment_reminders_at: tuple[datetime, ...] = ()


class NeedRecord(BaseModel):
    """A need found at assessment, labelled when 42 CFR Part 2 protects it."""

    model_config = ConfigDict(frozen=True)

    domain: NeedDomain
    priority: int
    part2: bool


class AssessmentCompleted(CaseEvent):
    """The intake assessment was completed; records the due time it was judged against."""

    completed_at: datetime
    case_manager_id: str
    assessment_due_by: datetime | None
    on_time: bool
    needs: tuple[NeedRecord, ...]


class ManagerAssigned(CaseEvent):
    """A case manager took the case."""

    case_manager_id: str
    agency: str | None
    assigned_at: datetime


class ContactRecorded(CaseEvent):
    """A contact with the person was attempted or made; `first_made` marks the first one made."""

    contact_id: UUID
    at: datetime
    method: ContactMethod
    outcome: ContactOutcome
    first_made: bool


class ConsentRecorded(CaseEvent):
    """The person consented to share with the named parties, for a purpose and scope, until expiry."""

    consent_id: UUID
    parties: tuple[str, ...]
    purpose: ConsentPurpose
    scope: ConsentScope
    part2: bool
    recorded_at: datetime
    expires_at: datetime


class ConsentRevoked(CaseEvent):
    """The person revoked a consent."""

    consent_id: UUID
    revoked_at: datetime


class ParticipantEnrolled(CaseEvent):
    """The person enrolled; they start out actively engaged."""

    enrolled_at: datetime


class ParticipantDeclined(CaseEvent):
    """The person chose not to enroll."""

    reason: DeclineReason
    declined_at: datetime


class EngagementChanged(CaseEvent):
    """An enrolled participant became active or inactive."""

    engagement: Engagement
    changed_at: datetime


class CaseClosed(CaseEvent):
    """The case was closed with a reason code."""

    reason: CloseReason
    closed_at: datetime


class CaseReopened(CaseEvent):
    """A closed case was opened again; `status` and `engagement` are what it returned to, so a
    read model can apply this event without the rest of the stream."""

    reopened_at: datetime
    status: CaseStatus
    engagement: Engagement | None
