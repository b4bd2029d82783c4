"""Domain events → published contract events (no I/O)."""

from datetime import UTC, datetime
from typing import get_args
from uuid import uuid4

import pytest

from divert_assessment.domain import events, rules
from divert_assessment.domain.case import Case
from divert_assessment.domain.status import CaseStatus
from divert_assessment.service_layer.integration import to_integration_event
from divert_contracts import cases as contract
from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import CaseAssessmentCompleted, CaseOpened, NeedDomain
from divert_contracts.dataplane import CASE_CONTENT_FIELDS
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.referrals import Subject
from divert_contracts.topics import CASE_MILESTONES, CASES

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def on_cases(event: events.CaseEvent) -> IntegrationEvent:
    """The one contract event `event` is published as on `divert.cases`."""
    [full] = [published for published in told(event) if published.topic == CASES.name]
    return full


def told(event: events.CaseEvent) -> list[IntegrationEvent]:
    """Everything `event` is published as, on any topic."""
    published = to_integration_event(event, Case(id=event.referral_id))
    return [published] if isinstance(published, IntegrationEvent) else list(published or ())


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

    published = on_cases(opened)

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

    published = on_cases(completed)

    assert isinstance(published, CaseAssessmentCompleted)
    assert published.on_time is False
    assert [(n.domain, n.priority, n.part2) for n in published.needs] == [
        ("substance_use_treatment", 1, True),
        ("housing", 2, False),
    ]
    assert "cm-7" not in published.model_dump_json()


def test_substance_use_treatment_is_the_only_part2_need_domain() -> None:
    assert [domain for domain in get_args(NeedDomain) if rules.is_part2(domain)] == ["substance_use_treatment"]


RID = uuid4()
KC = {"referral_id": RID, "jurisdiction": "king-county"}
LIFECYCLE = [
    (events.ManagerAssigned(**KC, case_manager_id="cm-9", agency="dcs", assigned_at=AT), contract.CaseManagerAssigned),
    (
        events.ContactRecorded(**KC, contact_id=uuid4(), at=AT, method="phone", outcome="made", first_made=True),
        contract.CaseContactRecorded,
    ),
    (
        events.ConsentRecorded(
            **KC,
            consent_id=uuid4(),
            parties=("org-housing",),
            purpose="housing_application",
            scope="contact_details",
            part2=False,
            recorded_at=AT,
            expires_at=AT,
        ),
        contract.CaseConsentRecorded,
    ),
    (events.ConsentRevoked(**KC, consent_id=uuid4(), revoked_at=AT), contract.CaseConsentRevoked),
    (events.ParticipantEnrolled(**KC, enrolled_at=AT), contract.CaseParticipantEnrolled),
    (events.ParticipantDeclined(**KC, reason="unreachable", declined_at=AT), contract.CaseParticipantDeclined),
    (events.EngagementChanged(**KC, engagement="inactive", changed_at=AT), contract.CaseEngagementChanged),
    (events.CaseClosed(**KC, reason="transferred", closed_at=AT), contract.CaseClosed),
    (
        events.CaseReopened(**KC, reopened_at=AT, status=CaseStatus.ENROLLED, engagement="active"),
        contract.CaseReopened,
    ),
]


@pytest.mark.parametrize(("event", "published_type"), LIFECYCLE, ids=lambda value: getattr(value, "name", ""))
def test_every_lifecycle_event_is_published_as_its_contract(event: events.CaseEvent, published_type: type) -> None:
    published = on_cases(event)

    assert type(published) is published_type
    assert published.referral_id == RID
    stated = event.model_dump(exclude={"status"})  # where a reopened case returned to stays home
    assert {k: v for k, v in published.model_dump().items() if k in stated} == {
        k: v for k, v in stated.items() if k in published.model_dump()
    }


# Facts intake published on `divert.referrals` (a reminder, an extension): marked on the case for
# its agency, never told again, least of all on the milestones the enforcement side reads.
STAYS_HOME = [
    events.AssessmentReminded(**KC, reminded_at=AT, days_before=2, assessment_due_by=AT),
    events.AssessmentDeadlineExtended(
        **KC, previous_due_by=AT, assessment_due_by=AT, extended_at=AT, assessment_reminders_at=(AT,)
    ),
]


def test_every_domain_event_type_is_published_or_stays_home() -> None:
    mapped = {type(event).name for event, _ in LIFECYCLE} | {"CaseOpened", "AssessmentCompleted"}
    home = {type(event).name for event in STAYS_HOME}

    assert mapped | home == set(Case.event_types()) and not mapped & home


@pytest.mark.parametrize("event", STAYS_HOME, ids=lambda event: event.name)
def test_reminders_and_extensions_are_published_nowhere(event: events.CaseEvent) -> None:
    assert told(event) == []


def test_a_rereferral_is_published_with_its_link_and_referral_time() -> None:
    previous = uuid4()
    opened = events.CaseOpened(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="social_contact",
        referred_at=AT,
        assessment_due_by=None,
        opened_at=AT,
        subject=Subject(given_name="Ana", family_name="Diaz", rms_person_id="P-9"),
        rms_agency="SPD",
        previous_referral_id=previous,
    )

    published = on_cases(opened)

    assert isinstance(published, CaseOpened)
    assert published.previous_referral_id == previous and published.referred_at == AT
    assert "P-9" not in published.model_dump_json()


OPENED = events.CaseOpened(
    **KC,
    pathway="arrest_diversion",
    referred_at=AT,
    assessment_due_by=AT,
    opened_at=AT,
    subject=Subject(given_name="Ana", family_name="Diaz"),
    rms_agency="SPD",
)
ASSESSED = events.AssessmentCompleted(
    **KC,
    completed_at=AT,
    assessment_due_by=AT,
    on_time=True,
    case_manager_id="cm-7",
    needs=(events.NeedRecord(domain="substance_use_treatment", priority=1, part2=True),),
)
MILESTONES = [
    (OPENED, CaseOpenedMilestone(**KC, opened_at=AT)),
    (ASSESSED, CaseAssessedMilestone(**KC, completed_at=AT, on_time=True)),
    (events.ParticipantEnrolled(**KC, enrolled_at=AT), CaseEnrolledMilestone(**KC, enrolled_at=AT)),
    (events.CaseClosed(**KC, reason="deceased", closed_at=AT), CaseClosedMilestone(**KC, closed_at=AT)),
]


@pytest.mark.parametrize(("event", "milestone"), MILESTONES, ids=lambda value: getattr(value, "name", ""))
def test_four_moments_are_also_told_as_status_only_milestones(
    event: events.CaseEvent, milestone: IntegrationEvent
) -> None:
    [told_as_milestone] = [published for published in told(event) if published.topic == CASE_MILESTONES.name]

    assert told_as_milestone == milestone
    assert not set(told_as_milestone.model_dump()) & CASE_CONTENT_FIELDS
    for content in ("substance_use_treatment", "deceased", "Diaz", "cm-7", "SPD"):
        assert content not in told_as_milestone.model_dump_json()


def test_nothing_else_is_a_milestone() -> None:
    for event, _ in LIFECYCLE:
        if type(event) not in (events.ParticipantEnrolled, events.CaseClosed):
            assert [published.topic for published in told(event)] == [CASES.name]
