"""The deadline worker trusts intake's record, not the workflow: with real processes.

Whoever reaches the Temporal frontend can start `ReferralDeadlineWorkflow` under a real referral's
id with any due time. The worker under test is the one `divert-intake worker` runs
(`bootstrap.build_worker`, intake's real activities over a real database); warrants is the real
`divert-warrants api` process, so a wrongful request would be there to see. The consumer is the
one `divert-intake consumer` runs, reading a real broker: a re-read `referral.accepted` must not
bring back a clock Temporal has forgotten.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from divert_contracts.referrals import ReferralAccepted, ReferralDeadlineExtended, ReferralWithdrawn
from divert_intake.adapters.referral_views import find_status
from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import Intake, build_worker, warrants_client
from divert_intake.deadline.activities import LAPSE_REFUSED
from divert_intake.deadline.models import TASK_QUEUE, DeadlineInput, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_intake.domain.commands import ExtendDeadline, WithdrawReferral
from divert_intake.entrypoints.consumer import GROUP_ID, TOPICS, consumer_effects, consumer_handlers
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause, caused_by_event
from divert_platform.roles import run_consumer
from divert_platform.schema import inbox, outbox
from divert_platform.testing import metric_value, produce

REFUSALS = "divert.deadline.lapse_refusals"


@pytest.fixture
def intake(deadline_intake: Intake) -> Intake:
    """Intake calling the warrants processes, its relay publishing to the broker warrants reads."""
    return deadline_intake


async def status_of(intake: Intake, referral_id: str) -> str | None:
    async with intake.sessions() as session:
        row = await find_status(session, UUID(referral_id))
    return row["status"] if row else None


async def accepted_event(intake: Intake, referral_id: str) -> tuple[str, ReferralAccepted]:
    """The referral's `referral.accepted` as intake's relay publishes it: its CloudEvents id and event."""
    async with intake.sessions() as session:
        row = (
            await session.execute(
                select(outbox.c.event_id, outbox.c.data).where(
                    outbox.c.message_key == referral_id, outbox.c.event_type == ReferralAccepted.event_type
                )
            )
        ).one()
    return row.event_id, ReferralAccepted.model_validate(row.data)


def refusal_of(failure: WorkflowFailureError) -> ApplicationError:
    """The activity's error that failed the workflow."""
    assert isinstance(failure.cause, ActivityError) and isinstance(failure.cause.cause, ApplicationError)
    return failure.cause.cause


async def failed_run(client: Client, deadline: DeadlineInput) -> ApplicationError:
    """Wait for the referral's workflow to fail; the refusal it failed with."""
    handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
    with pytest.raises(WorkflowFailureError) as failed:
        async with asyncio.timeout(60):
            await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
    return refusal_of(failed.value)


async def applied(intake: Intake, group: str, event_id: str) -> bool:
    """Whether consumer group `group` has applied the event (its inbox row is written)."""
    async with intake.sessions() as session:
        found = await session.scalar(
            select(inbox.c.event_id).where(inbox.c.consumer == group, inbox.c.event_id == event_id)
        )
    return found is not None


async def is_gone(client: Client, referral_id: str) -> bool:
    """Whether Temporal has no workflow at all under the referral's deadline id."""
    try:
        await client.get_workflow_handle(workflow_id(referral_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return True
        raise
    return False


async def test_a_workflow_started_by_hand_with_a_past_due_time_records_and_requests_nothing(
    intake: Intake, warrants: Any, temporal: Any, refer: Any, metric_reader: Any
) -> None:
    warrants.start()
    refused_before = metric_value(metric_reader, REFUSALS, reason="due_time_mismatch")
    deadline = await refer(intake, timedelta(hours=1))  # a real referral, its window open for an hour
    forged = deadline.model_copy(update={"assessment_due_by": datetime.now(UTC) - timedelta(minutes=5)})
    client = await temporal.connect()
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        await client.start_workflow(
            ReferralDeadlineWorkflow.run, forged, id=workflow_id(deadline.referral_id), task_queue=TASK_QUEUE
        )
        refusal = await failed_run(client, deadline)
        assert (refusal.type, refusal.non_retryable, refusal.details) == (LAPSE_REFUSED, True, ("due_time_mismatch",))
        assert await status_of(intake, deadline.referral_id) == "accepted"  # no lapse recorded
        assert warrants.requests_for(deadline.referral_id) == []
        assert metric_value(metric_reader, REFUSALS, reason="due_time_mismatch") == refused_before + 1

        # The forged run does not block the referral's own clock: started from intake's record,
        # it runs to the real due time.
        event_id, accepted = await accepted_event(intake, deadline.referral_id)
        start = consumer_effects(TemporalDeadlineClock(client), intake.unit_of_work)[ReferralAccepted]
        await start(accepted, caused_by_event("/divert/intake", event_id, None))
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        status = await handle.query(ReferralDeadlineWorkflow.status)
        assert (status.state, status.assessment_due_by) == ("waiting", deadline.assessment_due_by)


async def test_a_clock_that_missed_an_extension_is_refused_and_the_extension_restarts_it(
    intake: Intake, warrants: Any, temporal: Any, refer: Any
) -> None:
    warrants.start()
    deadline = await refer(intake, timedelta(seconds=2))
    extended = deadline.assessment_due_by + timedelta(hours=1)
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="pm-demo", role="program_manager")
    async with uow:
        extension = ExtendDeadline(UUID(deadline.referral_id), extended, "in hospital", at=datetime.now(UTC))
        await handlers.extend_deadline(extension, uow)
        await uow.commit()
    client = await temporal.connect()
    clock = TemporalDeadlineClock(client)
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        await clock.start(deadline)  # a clock the extension has not reached yet: it fires at the old time
        refusal = await failed_run(client, deadline)
        assert refusal.details == ("due_time_mismatch",)
        assert await status_of(intake, deadline.referral_id) == "accepted"
        assert warrants.requests_for(deadline.referral_id) == []

        # The extension's event reaches the consumer: the clock runs again, to the extended due time.
        event = ReferralDeadlineExtended(
            referral_id=UUID(deadline.referral_id),
            jurisdiction="demo",
            previous_due_by=deadline.assessment_due_by,
            assessment_due_by=extended,
            reason="in hospital",
            extended_at=datetime.now(UTC),
        )
        consumed = intake.unit_of_work()
        consumed.cause = caused_by_event("/divert/intake", str(uuid4()), datetime.now(UTC))
        async with consumed:
            await consumer_handlers(clock)[ReferralDeadlineExtended](event, consumed)
            await consumed.commit()
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        status = await handle.query(ReferralDeadlineWorkflow.status)
        assert (status.state, status.assessment_due_by) == ("waiting", extended)


async def test_a_late_withdrawal_notice_never_starts_a_second_clock_after_a_refused_lapse(
    intake: Intake, warrants: Any, temporal: Any, refer: Any
) -> None:
    warrants.start()
    deadline = await refer(intake, timedelta(seconds=2))
    client = await temporal.connect()
    clock = TemporalDeadlineClock(client)
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        await clock.start(deadline)
        # The officer withdraws; the event has not reached the consumer when the timer fires.
        withdrawn_at = datetime.now(UTC)
        uow = intake.unit_of_work()
        uow.cause = Cause(actor="officer-demo", role="officer")
        async with uow:
            await handlers.withdraw_referral(WithdrawReferral(UUID(deadline.referral_id), "x", withdrawn_at), uow)
            await uow.commit()
        refusal = await failed_run(client, deadline)
        assert refusal.details == ("withdrawn",)

        # Now the withdrawal reaches the consumer, and a late assessment notice the clock: neither
        # may start a run over the failed one (a second clock for one referral).
        event = ReferralWithdrawn(
            referral_id=UUID(deadline.referral_id), jurisdiction="demo", withdrawn_at=withdrawn_at, reason="x"
        )
        consumed = intake.unit_of_work()
        consumed.cause = caused_by_event("/divert/intake", str(uuid4()), datetime.now(UTC))
        async with consumed:
            await consumer_handlers(clock)[ReferralWithdrawn](event, consumed)
            await consumed.commit()
        await clock.record_assessment(deadline, deadline.assessment_due_by)
    runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id(deadline.referral_id)}'")]
    assert [run.status for run in runs] == [WorkflowExecutionStatus.FAILED]
    assert warrants.requests_for(deadline.referral_id) == []


async def test_a_re_read_acceptance_never_revives_a_clock_temporal_has_forgotten(
    intake: Intake, warrants: Any, temporal: Any, refer: Any, kafka_bootstrap: str
) -> None:
    warrants.start()
    lapsed = await refer(intake, timedelta(seconds=1))
    client = await temporal.connect()
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        await TemporalDeadlineClock(client).start(lapsed)
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(lapsed.referral_id))
        async with asyncio.timeout(60):
            assert (await handle.result()).outcome == "lapsed"
    assert len(warrants.requests_for(lapsed.referral_id)) == 1

    # Namespace retention drops the finished workflow.
    execution = WorkflowExecution(workflow_id=workflow_id(lapsed.referral_id))
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(namespace=client.namespace, workflow_execution=execution)
    )
    async with asyncio.timeout(30):
        while not await is_gone(client, lapsed.referral_id):  # noqa: ASYNC110 - polling Temporal
            await asyncio.sleep(0.2)

    # The topic is read again (a relay re-publishes it after the broker lost it): the old
    # acceptance under its own id, then on the same partition, so read after it, a marker: a live
    # referral's acceptance under a fresh id, whose inbox row shows the consumer got that far.
    live = await refer(intake, timedelta(hours=1))
    lapsed_id, lapsed_event = await accepted_event(intake, lapsed.referral_id)
    _, live_event = await accepted_event(intake, live.referral_id)
    marker = str(uuid4())
    await produce(kafka_bootstrap, lapsed_event, source="/divert/intake", event_ids=[lapsed_id], partition=0)
    await produce(kafka_bootstrap, live_event, source="/divert/intake", event_ids=[marker], partition=0)
    stop, group = asyncio.Event(), f"{GROUP_ID}-{uuid4().hex[:8]}"
    clock = TemporalDeadlineClock(client)
    consumer = asyncio.create_task(
        run_consumer(
            intake.settings,
            topics=TOPICS,
            group_id=group,
            handlers=consumer_handlers(clock),
            effects=consumer_effects(clock, intake.unit_of_work),
            unit_of_work=intake.unit_of_work,
            stop=stop,
        )
    )
    try:
        async with asyncio.timeout(60):
            while not await applied(intake, group, marker):  # noqa: ASYNC110 - polling a database
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await consumer
    assert await is_gone(client, lapsed.referral_id)
    assert not await is_gone(client, live.referral_id)  # the consumer does start clocks still pending
    assert len(warrants.requests_for(lapsed.referral_id)) == 1
    assert await status_of(intake, lapsed.referral_id) == "lapsed"
