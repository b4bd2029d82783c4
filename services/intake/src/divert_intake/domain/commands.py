"""Commands intake takes: what a caller asks to happen, before the referral judges it.

Each carries the moment it was issued (`at`) where the referral needs a time: the aggregate never
reads a clock, so a command means the same thing however late it is handled.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_contracts.referrals import Location, Pathway, RmsReference, Subject
from divert_intake.domain.approvals import ApprovalOutcome
from divert_intake.domain.facts import Offense, Screening


@dataclass(frozen=True)
class SubmitReferral:
    """An officer refers a person, to be judged by the jurisdiction's policy in force on `referred_at`."""

    referral_id: UUID
    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    rms: RmsReference
    subject: Subject
    location: Location
    offense: Offense | None
    screening: Screening
    contact_drivers: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class WithdrawReferral:
    """The referring agency (or the jurisdiction's program manager) withdraws a referral."""

    referral_id: UUID
    reason: str
    at: datetime


@dataclass(frozen=True)
class ExtendDeadline:
    """The program manager moves a pending arrest diversion's assessment due time later."""

    referral_id: UUID
    assessment_due_by: datetime
    reason: str
    at: datetime


@dataclass(frozen=True)
class RecordLapse:
    """The deadline workflow reports that the window ending `assessment_due_by` closed at
    `lapsed_at`; `at` is the recorder's own clock, which the claim is checked against."""

    referral_id: UUID
    assessment_due_by: datetime
    lapsed_at: datetime
    at: datetime


@dataclass(frozen=True)
class RaiseReminder:
    """The deadline workflow reports that the reminder at `remind_at` before the due time
    `assessment_due_by` is reached; `at` is the recorder's own clock, which the claim is checked
    against."""

    referral_id: UUID
    assessment_due_by: datetime
    remind_at: datetime
    at: datetime


@dataclass(frozen=True)
class DecideApproval:
    """The referral's approver accepts or declines it, giving a reason code (`domain/approvals.py`);
    `role` is the caller's, checked against the policy's approver."""

    referral_id: UUID
    outcome: ApprovalOutcome
    reason_code: str
    role: str
    at: datetime


@dataclass(frozen=True)
class ApplyApprovalTimeout:
    """The approval timer fired: a referral still waiting follows its policy's rule, if intake's
    record agrees its time is up by `at`."""

    referral_id: UUID
    at: datetime
