"""A case's history for case-agency staff, rendered from its event stream (the audit trail).

Each entry is a whitelist: the entry model declares the few fields of its event worth showing,
and everything else the event holds (the subject's identity, the RMS agency) is dropped when the
entry is built. Events hold no free text, so neither does the timeline.
"""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from divert_assessment.domain import events
from divert_assessment.domain.case import Case
from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.schemas import MAX_NEEDS, MAX_PARTIES, CaseManagerId, CaseView, NeedView, PartyId
from divert_contracts.cases import (
    CloseReason,
    ConsentPurpose,
    ConsentScope,
    ContactMethod,
    ContactOutcome,
    DeclineReason,
    Engagement,
)
from divert_contracts.referrals import Pathway
from divert_platform.audit import Actor, Agency
from divert_platform.event_store import RecordedEvent
from divert_platform.text import Code

MAX_TIMELINE = 1000
"""A case's detail shows its newest this many entries; `GET /v1/audit` pages through every write."""


class Entry(BaseModel):
    """What happened, when, and who recorded it; every time in UTC, whatever offset it was given with."""

    time_field: ClassVar[str]

    at: datetime = Field(description="When it happened (the event's own time, e.g. `completed_at`), in UTC.")
    recorded_at: datetime = Field(description="When it was recorded in the event store, in UTC.")
    actor: Actor | None = Field(description="Who recorded it (a user id, or the service that did).")
    role: Code | None
    agency: Agency | None = None

    @field_validator("*")
    @classmethod
    def _in_utc(cls, value: Any) -> Any:
        return value.astimezone(UTC) if isinstance(value, datetime) else value


class CaseOpenedEntry(Entry):
    """The case was opened for an accepted referral."""

    time_field = "opened_at"
    event: Literal["case_opened"]
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None
    previous_referral_id: UUID | None


class AssessmentRemindedEntry(Entry):
    """The case agency was reminded that the assessment is due soon."""

    time_field = "reminded_at"
    event: Literal["assessment_reminded"]
    days_before: int = Field(ge=0, le=365, description="How many days before the due time (the policy's).")
    assessment_due_by: datetime


class AssessmentDeadlineExtendedEntry(Entry):
    """The assessment's due time was extended at intake (its reminders moved with it)."""

    time_field = "extended_at"
    event: Literal["assessment_deadline_extended"]
    previous_due_by: datetime
    assessment_due_by: datetime


class AssessmentCompletedEntry(Entry):
    """The intake assessment was completed, with the needs found."""

    time_field = "completed_at"
    event: Literal["assessment_completed"]
    on_time: bool
    needs: list[NeedView] = Field(max_length=MAX_NEEDS)


class ManagerAssignedEntry(Entry):
    """A case manager took the case."""

    time_field = "assigned_at"
    event: Literal["manager_assigned"]
    case_manager_id: CaseManagerId


class ContactRecordedEntry(Entry):
    """A contact with the person was attempted or made."""

    time_field = "at"
    event: Literal["contact_recorded"]
    method: ContactMethod
    outcome: ContactOutcome
    first_made: bool


class ConsentRecordedEntry(Entry):
    """The person consented to share with the named parties."""

    time_field = "recorded_at"
    event: Literal["consent_recorded"]
    consent_id: UUID
    parties: list[PartyId] = Field(max_length=MAX_PARTIES)
    purpose: ConsentPurpose
    scope: ConsentScope
    part2: bool
    expires_at: datetime


class ConsentRevokedEntry(Entry):
    """The person revoked a consent."""

    time_field = "revoked_at"
    event: Literal["consent_revoked"]
    consent_id: UUID


class ParticipantEnrolledEntry(Entry):
    """The person enrolled."""

    time_field = "enrolled_at"
    event: Literal["participant_enrolled"]


class ParticipantDeclinedEntry(Entry):
    """The person chose not to enroll."""

    time_field = "declined_at"
    event: Literal["participant_declined"]
    reason: DeclineReason


class EngagementChangedEntry(Entry):
    """The participant became active or inactive."""

    time_field = "changed_at"
    event: Literal["engagement_changed"]
    engagement: Engagement


class CaseClosedEntry(Entry):
    """The case was closed."""

    time_field = "closed_at"
    event: Literal["case_closed"]
    reason: CloseReason


class CaseReopenedEntry(Entry):
    """The case was reopened."""

    time_field = "reopened_at"
    event: Literal["case_reopened"]
    status: CaseStatus = Field(description="The state the case returned to.")
    engagement: Engagement | None


TimelineEntry = Annotated[
    CaseOpenedEntry
    | AssessmentRemindedEntry
    | AssessmentDeadlineExtendedEntry
    | AssessmentCompletedEntry
    | ManagerAssignedEntry
    | ContactRecordedEntry
    | ConsentRecordedEntry
    | ConsentRevokedEntry
    | ParticipantEnrolledEntry
    | ParticipantDeclinedEntry
    | EngagementChangedEntry
    | CaseClosedEntry
    | CaseReopenedEntry,
    Field(discriminator="event"),
]


class CaseDetail(CaseView):
    """A case with its history: every recorded change, oldest first."""

    timeline: list[TimelineEntry] = Field(
        max_length=MAX_TIMELINE,
        description="The case's events in the order they were recorded: what happened, when, and who recorded it "
        f"(the newest {MAX_TIMELINE} at most; `GET /v1/audit` pages through every change).",
    )


_ENTRIES: dict[str, type[Entry]] = {
    events.CaseOpened.name: CaseOpenedEntry,
    events.AssessmentReminded.name: AssessmentRemindedEntry,
    events.AssessmentDeadlineExtended.name: AssessmentDeadlineExtendedEntry,
    events.AssessmentCompleted.name: AssessmentCompletedEntry,
    events.ManagerAssigned.name: ManagerAssignedEntry,
    events.ContactRecorded.name: ContactRecordedEntry,
    events.ConsentRecorded.name: ConsentRecordedEntry,
    events.ConsentRevoked.name: ConsentRevokedEntry,
    events.ParticipantEnrolled.name: ParticipantEnrolledEntry,
    events.ParticipantDeclined.name: ParticipantDeclinedEntry,
    events.EngagementChanged.name: EngagementChangedEntry,
    events.CaseClosed.name: CaseClosedEntry,
    events.CaseReopened.name: CaseReopenedEntry,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def timeline(stored: Iterable[RecordedEvent]) -> list[Entry]:
    """The entries of a case's stored events, in the order they were recorded (oldest first)."""
    entries = []
    types = Case.event_types()
    for record in stored:
        fields = types[record.event_type].model_validate(record.data).model_dump()
        entry = _ENTRIES[record.event_type]
        fields |= {
            "event": _snake(record.event_type),
            "at": fields[entry.time_field],
            "recorded_at": record.recorded_at,
            "actor": record.metadata.get("actor"),
            "role": record.metadata.get("role"),
            "agency": record.metadata.get("agency"),
        }
        entries.append(entry.model_validate(fields))
    return entries
