"""Request and response bodies of assessment's REST API (what case-agency systems code against).

Needs are categories with a priority, consents name recipients by id with a purpose and scope
from fixed lists, decline and close reasons are codes: there is deliberately no free-text field
anywhere, so clinical notes cannot leak into events, logs or the police-facing status. Request
date-times are ISO 8601 text with a UTC offset.
"""

from datetime import date, datetime
from typing import Annotated, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDateTime
from divert_platform.pagination import Cursor
from divert_platform.text import IDENTIFIER_PATTERN, JurisdictionId, free_text

PartyId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""A recipient's id (a registered organisation's), never a sentence."""
MAX_PARTIES = 20
MAX_NEEDS = len(get_args(NeedDomain))
MAX_CONSENTS = 200
"""A case view shows the newest this many consents (older ones stay in the timeline's source, the event store)."""
MAX_COUNT = 2**31 - 1
"""A count kept in an integer column cannot exceed the column's range."""
MAX_PAGE = 200
"""The largest `limit` of `GET /v1/cases`."""
CaseManagerId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]
"""A case manager's id in the case agency's own system (recorded as who acted)."""
PersonName = Annotated[str, free_text(200)]
DueSoon = Annotated[
    bool,
    Field(
        description="The case agency was reminded that the assessment is due (`last_reminder_at`), of the due time "
        "the case still has, and the case awaits assessment."
    ),
]
LastReminderAt = Annotated[
    datetime | None, Field(description="When the case agency was last reminded that the assessment is due.")
]
RemindedDaysBefore = Annotated[
    int | None, Field(ge=0, le=365, description="How many days before its due time that reminder came (the policy's).")
]
NextReminderAt = Annotated[
    datetime | None,
    Field(
        description="The next reminder still to come, by the server's clock: null when there is none, and once the "
        "case is no longer pending assessment."
    ),
]


class NeedRequest(BaseModel):
    """One need found at assessment."""

    model_config = ConfigDict(extra="forbid")

    domain: NeedDomain
    priority: int = Field(ge=1, le=10, description="1 is most urgent, 10 least.")


class Request(BaseModel):
    """Base of request bodies: unknown fields are refused (422), so no free text slips in."""

    model_config = ConfigDict(extra="forbid")


class AssessmentRequest(Request):
    """A completed intake assessment, as the case manager records it."""

    completed_at: IsoDateTime = Field(description="When the assessment was completed, with its UTC offset.")
    case_manager_id: CaseManagerId = Field(description="Who completed it (recorded as the actor).")
    needs: list[NeedRequest] = Field(max_length=MAX_NEEDS, description="Each need domain at most once; may be empty.")


class ManagerRequest(Request):
    """The case manager who takes the case."""

    case_manager_id: CaseManagerId = Field(description="The case manager's id.")
    agency: Annotated[str, free_text(64, min_length=1)] | None = Field(None, description="The case manager's agency.")


class ContactRequest(Request):
    """A contact with the person, attempted or made."""

    at: IsoDateTime = Field(description="When the contact happened, with its UTC offset.")
    method: ContactMethod
    outcome: ContactOutcome = Field(description="`made` when the person was reached; `attempted` otherwise.")


class ConsentRequest(Request):
    """A consent the person gave: who may receive what, for which purpose, until when."""

    parties: list[PartyId] = Field(
        min_length=1,
        max_length=MAX_PARTIES,
        description="Named recipients, each once, by the id of a registered organisation (`GET /v1/organisations`).",
    )
    purpose: ConsentPurpose
    scope: ConsentScope = Field(description="What may be shared, from contact details up to the full case.")
    part2: bool = Field(description="Covers 42 CFR Part 2 substance-use-treatment information.")
    expires_at: IsoDateTime = Field(description="When the consent ends; must be in the future.")


class EmptyRequest(Request):
    """No fields: the path says it all."""


class EnrollmentRequest(Request):
    """The person enrolled in the program."""

    enrolled_at: IsoDateTime = Field(description="When they enrolled, with its UTC offset.")


class DeclineRequest(Request):
    """The person chose not to enroll."""

    reason: DeclineReason


class EngagementRequest(Request):
    """An enrolled participant's engagement."""

    status: Engagement


class ClosureRequest(Request):
    """Why and when the case closed."""

    reason: CloseReason
    closed_at: IsoDateTime = Field(description="When the case closed, with its UTC offset; not before it opened.")


class SubjectView(BaseModel):
    """The person referred, and how to reach them."""

    given_name: PersonName
    family_name: PersonName
    date_of_birth: date | None
    phone: Annotated[str, free_text(32)] | None
    rms_person_id: Annotated[str, free_text(64)] | None


class NeedView(BaseModel):
    """A need found at assessment; `part2` marks 42 CFR Part 2 protected information."""

    domain: NeedDomain
    priority: int = Field(ge=1, le=10)
    part2: bool


class AssessmentView(BaseModel):
    """The completed assessment."""

    completed_at: datetime
    case_manager_id: CaseManagerId = Field(description="Who completed the assessment.")
    on_time: bool = Field(description="Completed at or before `assessment_due_by` (always true without one).")
    needs: list[NeedView] = Field(max_length=MAX_NEEDS)


class ConsentView(BaseModel):
    """A consent; `active` is computed when read: not revoked and not yet expired."""

    consent_id: UUID
    parties: list[PartyId] = Field(max_length=MAX_PARTIES)
    purpose: ConsentPurpose
    scope: ConsentScope
    part2: bool
    recorded_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class CaseView(BaseModel):
    """A case as case-agency staff see it (never shown to police; they see referral status only)."""

    referral_id: UUID
    status: Literal["pending_assessment", "assessed", "enrolled", "declined", "closed"]
    jurisdiction: JurisdictionId
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None = Field(
        description="End of the assessment window (arrest diversions only), as extended."
    )
    due_soon: DueSoon
    last_reminder_at: LastReminderAt
    reminded_days_before: RemindedDaysBefore
    next_reminder_at: NextReminderAt
    opened_at: datetime
    subject: SubjectView
    assessment: AssessmentView | None
    case_manager_id: CaseManagerId | None = Field(
        description="The assigned case manager (whoever assessed, until one is)."
    )
    engagement: Engagement | None = Field(description="An enrolled participant's engagement; kept while closed.")
    first_contact_at: datetime | None = Field(description="The first contact made with the person (warm hand-off).")
    contacts_attempted: int = Field(
        ge=0, le=MAX_COUNT, description="Contacts recorded, whether or not the person was reached."
    )
    enrolled_at: datetime | None
    declined_reason: DeclineReason | None
    closed_at: datetime | None = Field(description="Set while the case is closed.")
    close_reason: CloseReason | None
    previous_referral_id: UUID | None = Field(description="The person's earlier, closed case when re-referred.")
    updated_at: datetime
    consents: list[ConsentView] = Field(
        max_length=MAX_CONSENTS,
        description=f"The consents recorded, active and past, oldest first: the newest {MAX_CONSENTS} at most.",
    )


class SubjectName(BaseModel):
    """Whom the case is about, by name only (the detail has the rest)."""

    given_name: PersonName
    family_name: PersonName


class CaseSummary(BaseModel):
    """A case in a list: where it stands and who has it; no contact details, consents or needs."""

    referral_id: UUID
    status: Literal["pending_assessment", "assessed", "enrolled", "declined", "closed"]
    jurisdiction: JurisdictionId
    pathway: Pathway
    subject: SubjectName
    referred_at: datetime
    assessment_due_by: datetime | None
    due_soon: DueSoon
    last_reminder_at: LastReminderAt
    reminded_days_before: RemindedDaysBefore
    next_reminder_at: NextReminderAt
    case_manager_id: CaseManagerId | None
    engagement: Engagement | None
    first_contact_at: datetime | None
    completed_at: datetime | None = Field(description="When the assessment was completed.")
    assessed_on_time: bool | None
    enrolled_at: datetime | None
    closed_at: datetime | None
    close_reason: CloseReason | None
    updated_at: datetime


class CasePage(BaseModel):
    """One page of cases; pass `next_cursor` as `cursor` for the next page (None on the last)."""

    items: list[CaseSummary] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None
