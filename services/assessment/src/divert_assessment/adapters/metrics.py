"""The assessment service's business metrics: the program funnel, counted as it commits."""

from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseOpened,
    CaseParticipantDeclined,
    CaseParticipantEnrolled,
)
from divert_platform.metrics import CommittedEventCounter

count_committed = (
    CommittedEventCounter()
    .count(
        CaseOpened, "divert.cases.opened", "Cases opened for accepted referrals.", labels=("jurisdiction", "pathway")
    )
    .count(
        CaseAssessmentCompleted,
        "divert.cases.assessed",
        "Intake assessments completed, on time or late.",
        labels=("jurisdiction", "on_time"),
    )
    .count(CaseParticipantEnrolled, "divert.cases.enrolled", "People who enrolled.", labels=("jurisdiction",))
    .count(CaseParticipantDeclined, "divert.cases.declined", "People who declined to enroll.", labels=("jurisdiction",))
    .count(CaseClosed, "divert.cases.closed", "Cases closed, by reason code.", labels=("jurisdiction", "reason"))
)
"""Given to the assessment service's units of work."""
