"""Commands the assessment service takes: what someone asks to happen to a case, before the
case's rules have judged it.

Each carries the moment it was issued (`at`): the case never reads a clock, so a command means the
same thing however late it is handled. Ids of things a command creates (contacts, consents) are
chosen by the caller, so the aggregate stays deterministic and a retried request can be recognised.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

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


@dataclass(frozen=True)
class OpenCase:
    """Open the case of an accepted referral (linked to the person's earlier, closed case if any)."""

    referral_id: UUID
    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None
    subject: Subject
    rms_agency: str
    previous_referral_id: UUID | None
    agency: str | None  # the case agency serving the jurisdiction, which will own the case
    at: datetime
    assessment_reminders_at: tuple[datetime, ...] = ()  # when the agency will be reminded, earliest first
    precinct: str | None = None  # where the contact happened, for program reports
    policy_version: str | None = None  # the policy version that accepted the referral, for program reports


@dataclass(frozen=True)
class RecordReminder:
    """Mark the case reminded: intake reminded the agency `days_before` the due time `assessment_due_by`."""

    referral_id: UUID
    reminded_at: datetime
    days_before: int
    assessment_due_by: datetime


@dataclass(frozen=True)
class ExtendDeadline:
    """Move the assessment's due time later, with every reminder still to come (the program
    manager extended it at intake, `extended_at`)."""

    referral_id: UUID
    assessment_due_by: datetime
    extended_at: datetime
    assessment_reminders_at: tuple[datetime, ...]


@dataclass(frozen=True)
class NeedFound:
    """A need as the case manager reports it: a category and a priority (1 = most urgent)."""

    domain: NeedDomain
    priority: int


@dataclass(frozen=True)
class CompleteAssessment:
    """A case manager records the completed intake assessment."""

    referral_id: UUID
    completed_at: datetime
    case_manager_id: str
    needs: tuple[NeedFound, ...]
    at: datetime


@dataclass(frozen=True)
class AssignManager:
    """A case manager takes the case (or it is handed to another one)."""

    referral_id: UUID
    case_manager_id: str
    agency: str | None
    at: datetime


@dataclass(frozen=True)
class RecordContact:
    """A contact with the person was attempted or made at `contacted_at`."""

    referral_id: UUID
    contact_id: UUID
    contacted_at: datetime
    method: ContactMethod
    outcome: ContactOutcome
    at: datetime


@dataclass(frozen=True)
class RecordConsent:
    """The person consents to share their information with named parties, for a purpose, until expiry."""

    referral_id: UUID
    consent_id: UUID
    parties: tuple[str, ...]
    purpose: ConsentPurpose
    scope: ConsentScope
    part2: bool
    expires_at: datetime
    at: datetime


@dataclass(frozen=True)
class RevokeConsent:
    """The person withdraws a consent they gave."""

    referral_id: UUID
    consent_id: UUID
    at: datetime


@dataclass(frozen=True)
class Enroll:
    """The assessed person enrolls in the program."""

    referral_id: UUID
    enrolled_at: datetime
    at: datetime


@dataclass(frozen=True)
class Decline:
    """The assessed person chooses not to enroll."""

    referral_id: UUID
    reason: DeclineReason
    at: datetime


@dataclass(frozen=True)
class ChangeEngagement:
    """An enrolled participant becomes active or inactive."""

    referral_id: UUID
    engagement: Engagement
    at: datetime


@dataclass(frozen=True)
class Close:
    """Close the case, with a reason code."""

    referral_id: UUID
    reason: CloseReason
    closed_at: datetime
    at: datetime


@dataclass(frozen=True)
class Reopen:
    """Open a closed case again, in the state it had when it was closed."""

    referral_id: UUID
    at: datetime


CaseCommand = (
    CompleteAssessment
    | AssignManager
    | RecordContact
    | RecordConsent
    | RevokeConsent
    | Enroll
    | Decline
    | ChangeEngagement
    | Close
    | Reopen
)
"""Every command on an open (or closed) case; `OpenCase` is not one, it starts the case."""
