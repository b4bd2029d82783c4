"""Events the assessment service publishes on `divert.case-milestones`: where a case stands, and
nothing of what is in it.

Enforcement-side services (warrants, and intake's police view) must know that an assessment
happened and when, that the person enrolled, that the case closed; they must never learn the
person's needs, consents, contacts, engagement or why a case closed (LEAD's golden rule; 42 CFR
Part 2 for substance-use needs). So these events carry instants and an on-time flag only, and
`tests` derived from `divert_contracts.dataplane` fail if a case-content field is ever added.
"""

from pydantic import Field

from divert_contracts.base import IntegrationEvent
from divert_contracts.timestamps import Instant
from divert_contracts.topics import CASE_MILESTONES


class CaseOpenedMilestone(IntegrationEvent):
    """A case agency opened a case for the referral."""

    event_type = "org.divert.case_milestone.opened.v1"
    topic = CASE_MILESTONES.name

    jurisdiction: str = Field(max_length=64)
    opened_at: Instant


class CaseAssessedMilestone(IntegrationEvent):
    """The intake assessment was completed: what stops an arrest diversion's clock."""

    event_type = "org.divert.case_milestone.assessed.v1"
    topic = CASE_MILESTONES.name

    jurisdiction: str = Field(max_length=64)
    completed_at: Instant
    on_time: bool = Field(
        description=(
            "Completed at or before the due time the case agency knew (always true without one). Enforcement-side "
            "services judge on-time against their own record of the due time, extensions included."
        )
    )


class CaseEnrolledMilestone(IntegrationEvent):
    """The person enrolled in the program."""

    event_type = "org.divert.case_milestone.enrolled.v1"
    topic = CASE_MILESTONES.name

    jurisdiction: str = Field(max_length=64)
    enrolled_at: Instant


class CaseClosedMilestone(IntegrationEvent):
    """The case was closed (why is case content and stays on `divert.cases`)."""

    event_type = "org.divert.case_milestone.closed.v1"
    topic = CASE_MILESTONES.name

    jurisdiction: str = Field(max_length=64)
    closed_at: Instant
