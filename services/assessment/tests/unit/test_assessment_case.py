"""Opening a case and the assessment rules (no I/O); the rest of the lifecycle is in test_case_lifecycle."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from divert_assessment.domain import events
from divert_assessment.domain.case import Case, CaseStatus
from divert_assessment.domain.commands import CompleteAssessment, NeedFound, OpenCase
from divert_assessment.domain.errors import InvalidTransition, RulesBroken
from divert_contracts.referrals import Subject

REFERRED = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
DUE = datetime(2025, 3, 7, 7, 59, 59, tzinfo=UTC)
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def open_command(referral_id, *, due=DUE, at=REFERRED + timedelta(minutes=5)) -> OpenCase:
    return OpenCase(
        referral_id=referral_id,
        jurisdiction="king-county",
        pathway="arrest_diversion" if due else "social_contact",
        referred_at=REFERRED,
        assessment_due_by=due,
        subject=Subject(given_name="Ana", family_name="Diaz", date_of_birth=date(1990, 1, 2), phone="555-0100"),
        rms_agency="SPD",
        previous_referral_id=None,
        agency=None,
        at=at,
    )


def opened_case(*, due=DUE) -> Case:
    case = Case(id=uuid4())
    case.open(open_command(case.id, due=due))
    return case


def assess(case: Case, completed_at: datetime, *needs: NeedFound) -> None:
    case.complete_assessment(CompleteAssessment(case.id, completed_at, "cm-7", tuple(needs), NOW))


def test_opening_records_a_case_pending_assessment_with_its_due_time() -> None:
    case = opened_case()

    assert case.status == CaseStatus.PENDING_ASSESSMENT
    assert case.assessment_due_by == DUE
    [opened] = case.pending
    assert isinstance(opened, events.CaseOpened)
    assert opened.opened_at == REFERRED + timedelta(minutes=5)
    assert opened.subject.phone == "555-0100" and opened.rms_agency == "SPD"


def test_opening_an_open_case_again_records_nothing() -> None:
    case = opened_case()
    rebuilt = Case.from_events(case.id, case.pending)

    rebuilt.open(open_command(case.id, at=NOW))

    assert rebuilt.pending == []
    assert rebuilt.version == 1


def test_a_rebuilt_case_has_the_state_and_version_of_its_history() -> None:
    case = opened_case()
    assess(case, DUE - timedelta(hours=1))

    rebuilt = Case.from_events(case.id, case.pending)

    assert rebuilt.status == CaseStatus.ASSESSED
    assert rebuilt.version == 2
    assert rebuilt.referred_at == REFERRED and rebuilt.jurisdiction == "king-county"


def test_assessment_at_the_due_time_is_on_time() -> None:
    case = opened_case()
    assess(case, DUE, NeedFound("housing", 1))

    completed = case.pending[-1]
    assert isinstance(completed, events.AssessmentCompleted)
    assert completed.on_time is True
    assert completed.assessment_due_by == DUE
    assert completed.case_manager_id == "cm-7"


def test_assessment_after_the_due_time_is_late() -> None:
    case = opened_case()
    assess(case, DUE + timedelta(seconds=1))

    completed = case.pending[-1]
    assert isinstance(completed, events.AssessmentCompleted)
    assert completed.on_time is False
    assert case.status == CaseStatus.ASSESSED


def test_assessment_without_a_due_time_is_always_on_time() -> None:
    case = opened_case(due=None)
    assess(case, NOW)

    completed = case.pending[-1]
    assert isinstance(completed, events.AssessmentCompleted)
    assert completed.on_time is True


def test_only_substance_use_treatment_needs_are_labelled_part2() -> None:
    case = opened_case()
    assess(case, DUE, NeedFound("substance_use_treatment", 1), NeedFound("mental_health", 2), NeedFound("phone", 9))

    completed = case.pending[-1]
    assert isinstance(completed, events.AssessmentCompleted)
    assert [(n.domain, n.priority, n.part2) for n in completed.needs] == [
        ("substance_use_treatment", 1, True),
        ("mental_health", 2, False),
        ("phone", 9, False),
    ]


def test_a_case_is_assessed_only_once() -> None:
    case = opened_case()
    assess(case, DUE)

    with pytest.raises(InvalidTransition) as raised:
        assess(case, DUE)

    assert raised.value.current_state == CaseStatus.ASSESSED
    assert len(case.pending) == 2


def test_a_case_never_opened_cannot_be_assessed() -> None:
    with pytest.raises(InvalidTransition) as raised:
        assess(Case(id=uuid4()), DUE)

    assert raised.value.current_state is None


@pytest.mark.parametrize(
    ("completed_at", "needs", "field", "code"),
    [
        (NOW + timedelta(seconds=1), (), "completed_at", "in_future"),
        (REFERRED - timedelta(seconds=1), (), "completed_at", "before_referral"),
        (DUE, (NeedFound("housing", 1), NeedFound("housing", 3)), "needs", "duplicate_domain"),
        (DUE, (NeedFound("housing", 11),), "needs", "priority_out_of_range"),
        (DUE, (NeedFound("housing", 0),), "needs", "priority_out_of_range"),
    ],
)
def test_an_assessment_breaking_a_rule_is_refused_and_changes_nothing(completed_at, needs, field, code) -> None:
    case = opened_case()

    with pytest.raises(RulesBroken) as raised:
        assess(case, completed_at, *needs)

    assert [(v.field, v.code) for v in raised.value.violations] == [(field, code)]
    assert case.status == CaseStatus.PENDING_ASSESSMENT
    assert len(case.pending) == 1


def test_every_broken_rule_is_reported_at_once() -> None:
    case = opened_case()

    with pytest.raises(RulesBroken) as raised:
        assess(case, NOW + timedelta(days=1), NeedFound("food", 2), NeedFound("food", 2))

    assert {v.code for v in raised.value.violations} == {"in_future", "duplicate_domain"}
