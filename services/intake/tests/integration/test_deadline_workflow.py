"""The deadline workflow on a real Temporal dev server with time skipping: a 30-day window lapses
in moments, an on-time assessment prevents any warrant request, and starts are idempotent."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.deadline.models import TASK_QUEUE, DeadlineInput, LapseNotice, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_platform.embedded import venv_bin


class RecordingActivities:
    """Stand-ins for the warrants call and the lapse record, counting what the workflow asked for."""

    def __init__(self) -> None:
        self.warrant_requests: list[LapseNotice] = []
        self.lapses: list[LapseNotice] = []
        self.order: list[tuple[str, str]] = []

    @activity.defn(name="request_warrant")
    async def request_warrant(self, notice: LapseNotice) -> str:
        self.warrant_requests.append(notice)
        self.order.append(("request_warrant", notice.referral_id))
        return f"wr-{notice.referral_id}"

    @activity.defn(name="record_lapse")
    async def record_lapse(self, notice: LapseNotice) -> None:
        self.lapses.append(notice)
        self.order.append(("record_lapse", notice.referral_id))


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
        activities=[recording.request_warrant, recording.record_lapse],
    ):
        yield recording


def _handle(env: WorkflowEnvironment, deadline: DeadlineInput):
    """The referral's deadline workflow, typed so results come back as models."""
    return env.client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))


async def _deadline(env: WorkflowEnvironment, days: int = 30) -> DeadlineInput:
    now = datetime.now(UTC)  # each workflow's virtual clock starts at the real time
    return DeadlineInput(
        referral_id=str(uuid4()),
        jurisdiction="king-county",
        assessment_due_by=now + timedelta(days=days),
        lapse_action="warrant_request",
    )


async def test_a_thirty_day_window_lapses_and_requests_one_warrant(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    status = await handle.query(ReferralDeadlineWorkflow.status)
    assert status.state == "waiting" and status.assessment_due_by == deadline.assessment_due_by

    await env.fast_forward(handle, timedelta(days=31))
    result = await handle.result()
    assert result.outcome == "lapsed" and result.warrant_request_id == f"wr-{deadline.referral_id}"
    assert [n.referral_id for n in activities.warrant_requests] == [deadline.referral_id]
    assert [n.referral_id for n in activities.lapses] == [deadline.referral_id]
    assert activities.lapses[0].lapsed_at >= deadline.assessment_due_by


async def test_an_on_time_assessment_ends_the_clock_without_a_warrant(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await clock.record_assessment(deadline, deadline.assessment_due_by - timedelta(days=2))
    result = await handle.result()
    assert result.outcome == "assessed"  # the workflow finished: no timer is left to fire
    assert activities.warrant_requests == []


async def test_an_assessment_arriving_before_the_start_still_prevents_the_warrant(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    # Events of two topics carry no order between them: the case event may beat referral.accepted.
    deadline = await _deadline(env)
    clock = TemporalDeadlineClock(env.client)
    await clock.record_assessment(deadline, deadline.assessment_due_by - timedelta(days=29))
    await clock.start(deadline)
    handle = _handle(env, deadline)
    assert (await handle.result()).outcome == "assessed"
    assert activities.warrant_requests == []


async def test_starting_twice_runs_one_workflow_and_a_finished_one_is_never_restarted(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env, days=1)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle, timedelta(days=2))
    await handle.result()
    await clock.start(deadline)  # a redelivered referral.accepted after the lapse
    await clock.record_assessment(deadline, deadline.assessment_due_by)  # a late case event
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert [n.referral_id for n in activities.warrant_requests] == [deadline.referral_id]
    runs = [w async for w in env.client.list_workflows(f"WorkflowId = '{workflow_id(deadline.referral_id)}'")]
    assert len(runs) == 1


async def test_a_withdrawal_stops_the_clock_and_no_warrant_follows(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    await clock.withdraw(deadline, datetime.now(UTC))
    handle = _handle(env, deadline)
    assert (await handle.result()).outcome == "withdrawn"
    assert [n for n in activities.warrant_requests if n.referral_id == deadline.referral_id] == []


async def test_extensions_move_the_timer_later_and_never_earlier(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env, days=30)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    extended = deadline.assessment_due_by + timedelta(days=14)
    await clock.extend(deadline, extended)
    await clock.extend(deadline, deadline.assessment_due_by + timedelta(days=7))  # earlier than in force: ignored
    status = await handle.query(ReferralDeadlineWorkflow.status)
    assert status.state == "waiting" and status.assessment_due_by == extended

    await env.fast_forward(handle, timedelta(days=35))  # past the original due time only
    assert (await handle.query(ReferralDeadlineWorkflow.status)).state == "waiting"
    assert [n for n in activities.warrant_requests if n.referral_id == deadline.referral_id] == []
    # An assessment completed after the original due time but before the extended one is on time.
    await clock.record_assessment(deadline, deadline.assessment_due_by + timedelta(days=10))
    assert (await handle.result()).outcome == "assessed"


async def test_after_an_extension_the_lapse_reports_the_extended_due_time(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env, days=30)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    extended = deadline.assessment_due_by + timedelta(days=5)
    await clock.extend(deadline, extended)
    await env.fast_forward(handle, timedelta(days=40))
    assert (await handle.result()).outcome == "lapsed"
    [notice] = [n for n in activities.warrant_requests if n.referral_id == deadline.referral_id]
    assert notice.assessment_due_by == extended and notice.lapsed_at >= extended


async def test_an_assessment_one_second_before_the_due_time_counts_one_second_after_does_not(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    clock = TemporalDeadlineClock(env.client)
    outcomes = {}
    for label, offset in (("before", -1), ("after", +1)):
        deadline = await _deadline(env)
        await clock.start(deadline)
        handle = _handle(env, deadline)
        await clock.record_assessment(deadline, deadline.assessment_due_by + timedelta(seconds=offset))
        if label == "after":
            await env.fast_forward(handle, timedelta(days=31))
        outcomes[label] = ((await handle.result()).outcome, deadline.referral_id)
    assert outcomes["before"][0] == "assessed"
    assert outcomes["after"][0] == "lapsed"
    requested = {n.referral_id for n in activities.warrant_requests}
    assert outcomes["after"][1] in requested and outcomes["before"][1] not in requested


async def test_a_lapse_records_itself_before_asking_warrants(
    env: WorkflowEnvironment, activities: RecordingActivities
) -> None:
    deadline = await _deadline(env, days=1)
    clock = TemporalDeadlineClock(env.client)
    await clock.start(deadline)
    handle = _handle(env, deadline)
    await env.fast_forward(handle, timedelta(days=2))
    await handle.result()
    assert activities.order[-2:] == [("record_lapse", deadline.referral_id), ("request_warrant", deadline.referral_id)]
