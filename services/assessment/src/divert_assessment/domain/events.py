"""Assessment's domain events: what happened to a case, as stored in assessment's event store.

They stay inside assessment; `service_layer/integration.py` maps them to the published contracts.
They hold need categories and priorities only: there is no place for free-text clinical notes.
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_contracts.cases import NeedDomain
from divert_contracts.referrals import Pathway, Subject


class DomainEvent(BaseModel):
    """Base of assessment's domain events; `name` is the stored event type."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]

    referral_id: UUID


class CaseOpened(DomainEvent):
    """A case was opened for an accepted referral, with what a case manager needs to reach the person."""

    name = "CaseOpened"

    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None
    opened_at: datetime
    subject: Subject
    rms_agency: str


class NeedRecord(BaseModel):
    """A need found at assessment, labelled when 42 CFR Part 2 protects it."""

    model_config = ConfigDict(frozen=True)

    domain: NeedDomain
    priority: int
    part2: bool


class AssessmentCompleted(DomainEvent):
    """The intake assessment was completed; records the due time it was judged against."""

    name = "AssessmentCompleted"

    jurisdiction: str
    completed_at: datetime
    case_manager_id: str
    assessment_due_by: datetime | None
    on_time: bool
    needs: tuple[NeedRecord, ...]


EVENT_TYPES: dict[str, type[DomainEvent]] = {cls.name: cls for cls in (CaseOpened, AssessmentCompleted)}
