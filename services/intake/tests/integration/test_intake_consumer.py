"""The consumer's handlers over a real database (SQLite and PostgreSQL), applied as the runner
applies them: in its unit of work, caused by the event, then committed. Other services' news about
a referral reaches the police status view, and the deadline clock (a recording stand-in) is told.
Of cases, intake reads only the status-only milestones: never `divert.cases`."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from divert_contracts import dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.milestones import CaseAssessedMilestone, CaseEnrolledMilestone
from divert_contracts.topics import CASE_MILESTONES, CASES, REFERRALS, WARRANTS
from divert_contracts.warrants import WarrantRequested
from divert_intake.bootstrap import Intake
from divert_intake.deadline.models import DeadlineInput
from divert_intake.entrypoints.consumer import GROUP_ID, TOPICS, consumer_effects, consumer_handlers
from divert_platform.cause import caused_by_event
from divert_platform.schema import events


class RecordingClock:
    def __init__(self) -> None:
        self.calls: list[tuple[str, DeadlineInput, datetime]] = []

    async def start(self, deadline: DeadlineInput) -> None:
        raise AssertionError("started by the consumer's effect, never by a handler")

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        self.calls.append(("assessed", deadline, completed_at))

    async def withdraw(self, deadline: DeadlineInput, withdrawn_at: datetime) -> None:
        self.calls.append(("withdrawn", deadline, withdrawn_at))

    async def extend(self, deadline: DeadlineInput, assessment_due_by: datetime) -> None:
        self.calls.append(("extended", deadline, assessment_due_by))


async def deliver(intake: Intake, clock: RecordingClock, event: IntegrationEvent, event_id: str) -> None:
    uow = intake.unit_of_work()
    uow.cause = caused_by_event("/divert/other", event_id, datetime.now(UTC))
    async with uow:
        await consumer_handlers(clock)[type(event)](event, uow)
        await uow.commit()


async def test_news_of_a_referral_reaches_its_status_view_and_its_clock(
    intake: Intake, client: httpx.AsyncClient, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    created = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    referral_id, due = UUID(created["referral_id"]), datetime.fromisoformat(created["assessment_due_by"])
    clock = RecordingClock()
    completed = CaseAssessedMilestone(
        referral_id=referral_id, jurisdiction="king-county", completed_at=due - timedelta(days=1), on_time=True
    )
    enrolled = CaseEnrolledMilestone(referral_id=referral_id, jurisdiction="king-county", enrolled_at=due)
    requested = WarrantRequested(
        warrant_request_id=uuid4(),
        referral_id=referral_id,
        jurisdiction="king-county",
        kind="warrant_request",
        assessment_due_by=due,
        lapsed_at=due,
        requested_at=due,
    )
    for number, event in enumerate((completed, enrolled, requested)):
        await deliver(intake, clock, event, f"ce-{number}")

    view = (await client.get(f"/v1/referrals/{referral_id}", headers=officer)).json()
    assert (view["status"], view["assessed_on_time"], view["enrolled"], view["warrant_requested"]) == (
        "assessed",
        True,
        True,
        True,
    )
    [(call, deadline, completed_at)] = clock.calls
    assert (call, deadline.referral_id, deadline.assessment_due_by, completed_at) == (
        "assessed",
        str(referral_id),
        due,
        completed.completed_at,
    )
    async with intake.sessions() as session:
        stored = (
            await session.execute(
                select(events.c.event_type, events.c.metadata)
                .where(events.c.stream_id == f"referral-{referral_id}")
                .order_by(events.c.position)
            )
        ).all()
    assert [(row.event_type, row.metadata.get("causation_id")) for row in stored] == [
        ("ReferralAccepted", None),
        ("AssessmentRecorded", "ce-0"),
        ("EnrollmentNoted", "ce-1"),
        ("WarrantRequestNoted", "ce-2"),
    ]


async def test_news_of_a_referral_intake_never_accepted_changes_nothing(intake: Intake) -> None:
    clock = RecordingClock()
    enrolled = CaseEnrolledMilestone(referral_id=uuid4(), jurisdiction="king-county", enrolled_at=datetime.now(UTC))
    await deliver(intake, clock, enrolled, "ce-x")
    async with intake.sessions() as session:
        assert (await session.execute(select(events))).all() == []
    assert clock.calls == []


def test_the_consumer_reads_milestones_never_case_content() -> None:
    assert TOPICS == dataplane.service("intake").consumes == (REFERRALS, CASE_MILESTONES, WARRANTS)
    assert CASES not in TOPICS and GROUP_ID == "divert-intake"
    reacted = set(consumer_handlers(RecordingClock())) | set(consumer_effects(RecordingClock(), lambda: None))
    assert {event.topic for event in reacted} <= {topic.name for topic in TOPICS}
