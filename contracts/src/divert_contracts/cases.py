"""Events the assessment service publishes on `divert.cases`.

Case events carry need categories, never free-text clinical notes; a need derived from
substance-use treatment is labelled `part2` (42 CFR Part 2) so consumers can filter it.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field

from divert_contracts.base import ContractModel, IntegrationEvent
from divert_contracts.referrals import Pathway
from divert_contracts.topics import CASES

NeedDomain = Literal[
    "housing",
    "food",
    "substance_use_treatment",
    "mental_health",
    "medical",
    "income_benefits",
    "id_documents",
    "legal",
    "employment",
    "transportation",
    "phone",
]

PART2_DOMAINS: frozenset[str] = frozenset({"substance_use_treatment"})
"""Need domains whose information is protected by 42 CFR Part 2."""


class Need(ContractModel):
    """One need found at assessment, with its priority (1 = most urgent)."""

    domain: NeedDomain
    priority: int = Field(ge=1, le=10)
    part2: bool = Field(description="True when the need is 42 CFR Part 2 protected information.")


class CaseOpened(IntegrationEvent):
    """A case agency opened a case for an accepted referral; it is pending assessment."""

    event_type = "org.divert.case.opened.v1"
    topic = CASES.name

    jurisdiction: str
    pathway: Pathway
    opened_at: datetime
    assessment_due_by: datetime | None


class CaseAssessmentCompleted(IntegrationEvent):
    """The intake assessment was completed: the event that stops an arrest diversion's clock."""

    event_type = "org.divert.case.assessment_completed.v1"
    topic = CASES.name

    jurisdiction: str
    completed_at: datetime
    assessment_due_by: datetime | None
    on_time: bool = Field(description="Completed at or before the due time (always true without one).")
    needs: tuple[Need, ...]
