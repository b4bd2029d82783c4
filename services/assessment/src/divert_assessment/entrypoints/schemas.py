"""Request and response bodies of assessment's REST API (what case-agency systems code against).

Needs are categories with a priority; there is deliberately no free-text field anywhere, so
clinical notes cannot leak into events, logs or the police-facing status.
"""

from datetime import date, datetime
from typing import Literal, get_args
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from divert_contracts.cases import NeedDomain
from divert_contracts.referrals import Pathway


class NeedRequest(BaseModel):
    """One need found at assessment."""

    model_config = ConfigDict(extra="forbid")

    domain: NeedDomain
    priority: int = Field(ge=1, le=10, description="1 is most urgent, 10 least.")


class AssessmentRequest(BaseModel):
    """A completed intake assessment, as the case manager records it."""

    model_config = ConfigDict(extra="forbid")

    completed_at: AwareDatetime = Field(description="When the assessment was completed, with its UTC offset.")
    case_manager_id: str = Field(min_length=1, max_length=64, description="Who completed it (recorded as the actor).")
    needs: list[NeedRequest] = Field(
        max_length=len(get_args(NeedDomain)), description="Each need domain at most once; may be empty."
    )


class SubjectView(BaseModel):
    """The person referred, and how to reach them."""

    given_name: str
    family_name: str
    date_of_birth: date | None
    phone: str | None
    rms_person_id: str | None


class NeedView(BaseModel):
    """A need found at assessment; `part2` marks 42 CFR Part 2 protected information."""

    domain: NeedDomain
    priority: int
    part2: bool


class AssessmentView(BaseModel):
    """The completed assessment."""

    completed_at: datetime
    case_manager_id: str
    on_time: bool = Field(description="Completed at or before `assessment_due_by` (always true without one).")
    needs: list[NeedView]


class CaseView(BaseModel):
    """A case as case-agency staff see it (never shown to police; they see referral status only)."""

    referral_id: UUID
    status: Literal["pending_assessment", "assessed"]
    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None = Field(description="End of the assessment window (arrest diversions only).")
    opened_at: datetime
    subject: SubjectView
    assessment: AssessmentView | None
