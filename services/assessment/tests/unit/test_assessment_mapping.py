"""Domain events → published contract events (no I/O)."""

from datetime import UTC, datetime
from typing import get_args
from uuid import uuid4

from divert_assessment.domain import events, rules
from divert_assessment.service_layer.integration import to_integration_event
from divert_contracts.cases import CaseAssessmentCompleted, CaseOpened, NeedDomain
from divert_contracts.referrals import Subject

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def test_case_opened_is_published_without_the_subject_or_agency() -> None:
    opened = events.CaseOpened(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=AT,
        assessment_due_by=AT,
        opened_at=AT,
        subject=Subject(given_name="Ana", family_name="Diaz", phone="555-0100"),
        rms_agency="SPD",
    )

    published = to_integration_event(opened)

    assert isinstance(published, CaseOpened)
    assert published.referral_id == opened.referral_id
    assert published.opened_at == AT and published.assessment_due_by == AT
    assert "555-0100" not in published.model_dump_json() and "Diaz" not in published.model_dump_json()


def test_assessment_completed_is_published_with_on_time_and_part2_labels() -> None:
    completed = events.AssessmentCompleted(
        referral_id=uuid4(),
        jurisdiction="king-county",
        completed_at=AT,
        case_manager_id="cm-7",
        assessment_due_by=None,
        on_time=False,
        needs=(
            events.NeedRecord(domain="substance_use_treatment", priority=1, part2=True),
            events.NeedRecord(domain="housing", priority=2, part2=False),
        ),
    )

    published = to_integration_event(completed)

    assert isinstance(published, CaseAssessmentCompleted)
    assert published.on_time is False
    assert [(n.domain, n.priority, n.part2) for n in published.needs] == [
        ("substance_use_treatment", 1, True),
        ("housing", 2, False),
    ]
    assert "cm-7" not in published.model_dump_json()


def test_substance_use_treatment_is_the_only_part2_need_domain() -> None:
    assert [domain for domain in get_args(NeedDomain) if rules.is_part2(domain)] == ["substance_use_treatment"]
