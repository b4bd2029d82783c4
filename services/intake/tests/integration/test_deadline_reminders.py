"""Reminders of the deadline workflow on a real Temporal dev server with time skipping: they fire at
the instants intake computed (local end of day, across a daylight-saving change), move with an
extension, and stop with the assessment or the withdrawal."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest_asyncio
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.deadline.models import TASK_QUEUE, DeadlineInput, LapseNotice, ReminderNotice, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_intake.domain.deadlines import reminder_schedule
from divert_intake.domain.policy import load_policy_book
from divert_platform.embedded import venv_bin

KING_COUNTY = load_policy_book().get("king-county")
assert KING_COUNTY is not None
PACIFIC = ZoneInfo("America/Los_Angeles")


class RecordingActivities:
    """Stand-ins for intake's activities, keeping what the workflow asked for, in order, with the
    workflow's (virtual) time at which each was scheduled."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, datetime, datetime]] = []
        self.called = asyncio.Condition()

    def of(self, referral_id: str) -> list[tuple[str, datetime, datetime]]:
        return [(kind, at, scheduled) for kind, ref, at, scheduled in self.calls if ref == referral_id]

    @activity.defn(name="raise_reminder")
    async def raise_reminder(self, notice: ReminderNotice) -> bool:
        scheduled = activity.info().scheduled_time
        async with self.called:
            self.calls.append(("reminder", notice.referral_id, notice.remind_at, scheduled))
            self.called.notify_all()
        return True

    @activity.defn(name="record_lapse")
    async def record_lapse(self, notice: LapseNotice) -> None:
        self.calls.append(("lapse", notice.referral_id, notice.assessment_due_by, activity.info().scheduled_time))

    @activity.defn(name="request_warrant")
    async def request_warrant(self, notice: LapseNotice) -> str:
        return f"wr-{notice.referral_id}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=venv_bin("temporal"),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        data_converter=pydantic_data_converter,
    )
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def activities(env: WorkflowEnvironment) -> AsyncIterator[RecordingActivities]:
    recording = RecordingActivities()
    async with Worker(
        env.client,
        task_queue=TASK_QUEUE,
        workflows=[ReferralDeadlineWorkflow],
        activities=[recording.raise_reminder, recording.record_lapse, recording.request_warrant],
    ):
        yield recording


def _deadline(due: datetime, now: datetime) -> DeadlineInput:
    """A King County arrest diversion due at `due`, with the reminders intake computes at `now`."""
    return DeadlineInput(
        referral_id=str(uuid4()),
        jurisdiction="king-county",
        assessment_due_by=due,
        lapse_action="warrant_request",
        assessment_reminders_at=tuple(r.at for r in reminder_schedule(KING_COUNTY, due, after=now)),
    )


def _end_of_local_day(day: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=PACIFIC)


def _handle(env: WorkflowEnvironment, deadline: DeadlineInput):
    return env.client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))


async def _raised(activities: RecordingActivities, deadline: DeadlineInput, count: int) -> None:
    """Wait until the workflow has raised `count` reminders (its activity runs after the timer)."""
    async with asyncio.timeout(30), activities.called:
        await activities.called.wait_for(lambda: len(activities.of(deadline.referral_id)) >= count)


def _assert_fired_at_their_instants(calls: list[tuple[str, datetime, datetime]]) -> None:
    # Each activity is scheduled when its timer fires: at its instant by the workflow's clock.
    for _, at, scheduled in calls:
        assert at <= scheduled < at + timedelta(minutes=1)


async def test_reminders_fire_at_the_local_end_of_day_across_the_spring_forward_change(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    # Due at the end of 2027-03-16 (daylight time); 2027-03-14 is the spring-forward day, so the
    # 7-day reminder (03-09) is in standard time and the 2- and 1-day ones in daylight time.
    now = datetime.now(UTC)  # the workflow's virtual clock starts at the real time
    due = _end_of_local_day(datetime(2027, 3, 16))
    deadline = _deadline(due, now)
    await TemporalDeadlineClock(env.client).start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle)
    assert (await handle.result()).outcome == "lapsed"

    calls = activities.of(deadline.referral_id)
    assert [(kind, at) for kind, at, _ in calls] == [
        ("reminder", _end_of_local_day(datetime(2027, 3, 9))),
        ("reminder", _end_of_local_day(datetime(2027, 3, 14))),
        ("reminder", _end_of_local_day(datetime(2027, 3, 15))),
        ("lapse", due),
    ]
    assert [at.astimezone(PACIFIC).utcoffset() for _, at, _ in calls[:3]] == [
        timedelta(hours=-8),
        timedelta(hours=-7),
        timedelta(hours=-7),
    ]
    _assert_fired_at_their_instants(calls)


async def test_an_extension_moves_the_reminders_not_yet_raised(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    now = datetime.now(UTC)
    due = _end_of_local_day(now.astimezone(PACIFIC) + timedelta(days=30))
    deadline = _deadline(due, now)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle, timedelta(days=24))  # past the 7-day reminder only
    await _raised(activities, deadline, 1)
    virtual_now = await env.get_current_time(handle)
    later = due + timedelta(days=5)
    moved = _deadline(later, virtual_now).model_copy(update={"referral_id": deadline.referral_id})
    await clock.extend(moved, later)
    await env.fast_forward(handle)
    assert (await handle.result()).outcome == "lapsed"

    calls = activities.of(deadline.referral_id)
    first = deadline.assessment_reminders_at[0]
    assert [(kind, at) for kind, at, _ in calls] == [
        ("reminder", first),  # raised before the extension, not raised again
        *[("reminder", at) for at in moved.assessment_reminders_at],
        ("lapse", later),
    ]
    assert [at.astimezone(PACIFIC).date() for at in moved.assessment_reminders_at] == [
        (later - timedelta(days=days)).astimezone(PACIFIC).date() for days in (7, 2, 1)
    ]
    _assert_fired_at_their_instants(calls)


async def test_an_assessment_stops_the_reminders(env: WorkflowEnvironment, activities: RecordingActivities) -> None:
    now = datetime.now(UTC)
    deadline = _deadline(_end_of_local_day(now.astimezone(PACIFIC) + timedelta(days=30)), now)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle, timedelta(days=24))  # the 7-day reminder is raised
    await _raised(activities, deadline, 1)
    await clock.record_assessment(deadline, await env.get_current_time(handle))
    assert (await handle.result()).outcome == "assessed"
    assert [at for _, at, _ in activities.of(deadline.referral_id)] == [deadline.assessment_reminders_at[0]]


async def test_a_withdrawal_stops_the_reminders(env: WorkflowEnvironment, activities: RecordingActivities) -> None:
    now = datetime.now(UTC)
    deadline = _deadline(_end_of_local_day(now.astimezone(PACIFIC) + timedelta(days=30)), now)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle, timedelta(days=24))
    await _raised(activities, deadline, 1)
    await clock.withdraw(deadline, await env.get_current_time(handle))
    assert (await handle.result()).outcome == "withdrawn"
    assert [at for _, at, _ in activities.of(deadline.referral_id)] == [deadline.assessment_reminders_at[0]]
