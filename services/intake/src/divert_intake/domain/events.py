"""Intake's domain events: what happened to a referral, as stored in intake's event store.

They stay inside intake; `service_layer/integration.py` maps them to the published contracts.
Screening facts never appear here: only the decision and its reason codes. The stored event type
is the class name, so a class is never renamed without keeping its old `name`.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_contracts.referrals import ApproverRole, LapseAction, Location, Pathway, RmsReference, Subject
from divert_intake.domain.deadlines import Reminder
from divert_platform.aggregate import DomainEvent


class ReferralEvent(DomainEvent):
    """Something that happened to one referral."""

    referral_id: UUID


class ReasonRecord(BaseModel):
    """A reason code with its sentence, as recorded with a decision: a reason resting on the
    offense as given, or `screening` in place of every reason resting on screening facts."""

    model_config = ConfigDict(frozen=True)
    code: str
    message: str


class ReferralAccepted(ReferralEvent):
    """The policy in force on the referral's date found the person eligible."""

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
    assessment_reminders: tuple[Reminder, ...] = ()
    """The reminders before the due time, earliest first (none in events stored before reminders)."""
    approved_at: datetime | None = None
    """When its approver (or its policy's rule) accepted a referral that waited at an approval gate."""


class ReferralDeclined(ReferralEvent):
    """Recorded without the subject's details: a declined referral goes no further.

    `reasons` are the decision's kept reasons (`Decision.kept`): which screening answer excluded
    the person is told to the officer in the response and never recorded.
    """

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    policy: str
    policy_version: str
    reasons: tuple[ReasonRecord, ...]
    rms: RmsReference
    precinct: str | None = None


class HeldContact(BaseModel):
    """Who a waiting referral is about and where the contact happened: held outside the event
    store while the referral waits at its approval gate (`HeldContacts`), so that a referral
    declined there keeps no personal details, as one declined at once keeps none."""

    model_config = ConfigDict(frozen=True)
    subject: Subject
    location: Location


class ApprovalRequested(ReferralEvent):
    """The policy's approval gate: the referral waits for its approver until `decide_by`.

    Holds the rules' recommendation with its kept reasons and what an acceptance will publish but
    the person's details (`HeldContact`, kept beside the event store until the decision);
    screening facts are gone already.
    """

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    policy: str
    policy_version: str
    recommended: bool
    """Whether the rules found the person eligible."""
    reasons: tuple[ReasonRecord, ...]
    """The kept reasons of a recommended decline (empty when recommended)."""
    approver: ApproverRole
    decide_by: datetime
    on_timeout: Literal["accept", "decline"]
    requested_at: datetime
    rms: RmsReference
    offense_category: str | None
    offense_statute: str | None
    contact_drivers: tuple[str, ...]
    precinct: str | None = None
    """Where the contact happened, as coarse as the police view's reports need (none in events
    stored before reports by precinct; the rest of the location is held with the person's details)."""


class ApprovalDecided(ReferralEvent):
    """A waiting referral was decided: by its approver (who, in which role, and the reason code), or
    by the policy's rule when nobody decided in time (`decided_by` "policy"). An acceptance of a
    decline the rules recommended is an override, marked so. `ReferralAccepted` or
    `ReferralDeclined` follows in the same commit."""

    approved: bool
    decided_by: str
    role: str
    reason_code: str
    overrides_decline: bool
    decided_at: datetime


class AssessmentRecorded(ReferralEvent):
    """The case agency completed the assessment (on time or not)."""

    completed_at: datetime
    on_time: bool


class AssessmentDeadlineLapsed(ReferralEvent):
    """The arrest diversion's assessment window closed without an assessment."""

    jurisdiction: str
    assessment_due_by: datetime
    lapsed_at: datetime
    lapse_action: LapseAction


class ReferralWithdrawn(ReferralEvent):
    """The referring agency (or the program manager) withdrew the referral."""

    jurisdiction: str
    reason: str
    withdrawn_at: datetime


class DeadlineExtended(ReferralEvent):
    """The program manager moved the assessment due time later."""

    jurisdiction: str
    previous_due_by: datetime
    assessment_due_by: datetime
    reason: str
    extended_at: datetime
    assessment_reminders: tuple[Reminder, ...] = ()
    """The reminders before the new due time still to come, earliest first."""


class AssessmentDueSoon(ReferralEvent):
    """A reminder the policy sets before the due time was raised for the case agency."""

    jurisdiction: str
    assessment_due_by: datetime
    reminded_at: datetime
    days_before: int
    next_reminder_at: datetime | None


class WarrantRequestNoted(ReferralEvent):
    """The warrants service reported a request for this referral (shown to police as yes/no)."""

    warrant_request_id: UUID
    requested_at: datetime | None = None
    """When warrants recorded the request (none in events stored before reports kept it)."""


class WarrantRescissionNoted(ReferralEvent):
    """The warrants service rescinded the request (the police view goes back to "no")."""

    warrant_request_id: UUID
    rescinded_at: datetime | None = None
    """When warrants rescinded it (none in events stored before reports kept it)."""


class CaseOpeningNoted(ReferralEvent):
    """A case agency opened a case for the referral (police see nothing of it; programs count it)."""

    opened_at: datetime


class EnrollmentNoted(ReferralEvent):
    """The case agency enrolled the person (police see only "enrolled: yes")."""

    enrolled_at: datetime


class ClosureNoted(ReferralEvent):
    """The case agency closed the case (police see only "closed: yes", never why)."""

    closed_at: datetime
