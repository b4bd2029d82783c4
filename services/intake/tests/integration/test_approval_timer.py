"""The approval timer with real processes: a Temporal dev server, and the worker `divert-intake
worker` runs (`bootstrap.build_worker`, intake's real activities over a real database).

Referrals are submitted to intake under a gated copy of the demo policy whose approver has a few
seconds, so the timer really fires. It is started as the consumer starts it: by the effect of
`referral.approval_requested`, read back from intake's outbox as the relay publishes it. The timer
decides only what intake's record allows: nothing before the record's own decide-by time, nothing
for a referral its approver decided, and never an acceptance the rules did not recommend.
"""

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from divert_contracts.referrals import ReferralAccepted, ReferralApprovalRequested
from divert_intake.adapters.referral_views import find_status
from divert_intake.adapters.temporal_clock import TemporalApprovalTimer, TemporalDeadlineClock
from divert_intake.bootstrap import Intake, build_worker, warrants_client
from divert_intake.deadline.approval_workflow import ReferralApprovalWorkflow
from divert_intake.deadline.models import TASK_QUEUE, ApprovalTimerInput, approval_workflow_id
from divert_intake.domain.commands import DecideApproval
from divert_intake.domain.policy import ApprovalRule, PolicyBook, load_policy_book
from divert_intake.entrypoints.consumer import consumer_effects
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause, caused_by_event
from divert_platform.schema import events, outbox

from .conftest import demo_submission, submit_as_officer

GATED = "demo-gated"
WITHIN = timedelta(seconds=3)
"""The approver's time: long enough to decide by hand first, short enough for the file to run fast."""


def gated_book(on_timeout: Literal["accept", "decline"], within: timedelta) -> PolicyBook:
    """The shipped policies and a copy of the demo's whose prosecutor decides `within` of a submission."""
    shipped = load_policy_book()
    demo = shipped.latest("demo")
    assert demo is not None
    rule = ApprovalRule(by="prosecutor", within=within, on_timeout=on_timeout)
    gated = demo.model_copy(update={"id": GATED, "name": "Demo LEAD, with approval", "approval": rule})
    return PolicyBook([*(p for j in shipped.ids() for p in shipped.versions(j)), gated])


def gate(intake: Intake, on_timeout: Literal["accept", "decline"] = "accept", within: timedelta = WITHIN) -> Intake:
    """Intake (over the same database, relay and warrants) judging by the gated book."""
    return dataclasses.replace(intake, policies=gated_book(on_timeout, within))


async def submit(intake: Intake, *, eligible: bool = True) -> tuple[str, datetime]:
    """Submit an arrest diversion to the gated jurisdiction as an officer would; its id and the
    decide-by time intake recorded. `eligible=False`: 5 g, over the demo's limit (the rules decline)."""
    referral = await submit_as_officer(intake, demo_submission(jurisdiction=GATED, grams=0.5 if eligible else 5.0))
    waiting = referral.approval
    assert waiting is not None and waiting.recommended is eligible
    return str(referral.id), waiting.decide_by


async def approve(intake: Intake, referral_id: str) -> None:
    """The prosecutor approves the waiting referral."""
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="prosecutor-demo", role="prosecutor")
    async with uow:
        decision = DecideApproval(UUID(referral_id), "approve", "meets_criteria", "prosecutor", datetime.now(UTC))
        await handlers.decide_approval(decision, uow)
        await uow.commit()


async def start_timer(intake: Intake, client: Client, referral_id: str) -> None:
    """Run the consumer's effect of the referral's `referral.approval_requested`, read back from
    intake's outbox as the relay publishes it."""
    async with intake.sessions() as session:
        row = (
            await session.execute(
                select(outbox.c.event_id, outbox.c.data).where(
                    outbox.c.message_key == referral_id, outbox.c.event_type == ReferralApprovalRequested.event_type
                )
            )
        ).one()
    effects = consumer_effects(TemporalDeadlineClock(client), intake.unit_of_work, TemporalApprovalTimer(client))
    effect = effects[ReferralApprovalRequested]
    await effect(
        ReferralApprovalRequested.model_validate(row.data), caused_by_event("/divert/intake", row.event_id, None)
    )


async def timer_result(client: Client, referral_id: str) -> bool:
    """Wait for the referral's approval timer to complete; whether its activity decided the referral."""
    handle = client.get_workflow_handle_for(ReferralApprovalWorkflow.run, approval_workflow_id(referral_id))
    async with asyncio.timeout(60):
        return await handle.result()


async def status_row(intake: Intake, referral_id: str) -> dict[str, Any]:
    async with intake.sessions() as session:
        row = await find_status(session, UUID(referral_id))
    assert row is not None
    return row


async def stored(intake: Intake, referral_id: str, event_type: str) -> list[Any]:
    """The referral's events of `event_type` in intake's event store, oldest first."""
    async with intake.sessions() as session:
        rows = await session.execute(
            select(events.c.data, events.c.metadata)
            .where(events.c.stream_id == f"referral-{referral_id}", events.c.event_type == event_type)
            .order_by(events.c.position)
        )
    return list(rows.all())


async def published(intake: Intake, referral_id: str) -> list[str]:
    """The types of the referral's integration events in intake's outbox, oldest first."""
    async with intake.sessions() as session:
        rows = await session.scalars(
            select(outbox.c.event_type).where(outbox.c.message_key == referral_id).order_by(outbox.c.id)
        )
    return list(rows)


async def is_gone(client: Client, referral_id: str) -> bool:
    """Whether Temporal has no workflow at all under the referral's approval timer id."""
    try:
        await client.get_workflow_handle(approval_workflow_id(referral_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return True
        raise
    return False


@pytest.fixture
def intake(deadline_intake: Intake) -> Intake:
    """Intake with its relay publishing to the session's broker (warrants is never started: the
    approval timer does not call it)."""
    return deadline_intake


async def test_a_recommended_referral_nobody_decides_is_accepted_by_the_timer_at_decide_by(
    intake: Intake, temporal: Any
) -> None:
    gated = gate(intake, "accept")
    referral_id, decide_by = await submit(gated)
    assert (await status_row(gated, referral_id))["status"] == "pending_approval"
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        await start_timer(gated, client, referral_id)
        assert await timer_result(client, referral_id) is True

    [(decided, metadata)] = await stored(gated, referral_id, "ApprovalDecided")
    assert (decided["approved"], decided["decided_by"], decided["reason_code"]) == (True, "policy", "on_timeout_accept")
    assert (metadata["actor"], metadata["role"]) == ("referral-approval-workflow", "service")
    decided_at = datetime.fromisoformat(decided["decided_at"])
    assert decided_at >= decide_by
    row = await status_row(gated, referral_id)
    assert (row["status"], row["decision"]["eligible"], row["approval_by"], row["approval_due_by"]) == (
        "accepted",
        True,
        None,
        None,
    )
    # The assessment window runs from the decision, not from the referral.
    policy = gated.policies.latest(GATED)
    assert policy is not None
    window = policy.assessment_window
    assert row["assessment_due_by"] == decided_at + window
    assert row["assessment_due_by"] >= decide_by + window
    assert await published(gated, referral_id) == [ReferralApprovalRequested.event_type, ReferralAccepted.event_type]


async def test_under_on_timeout_decline_the_timer_declines(intake: Intake, temporal: Any) -> None:
    gated = gate(intake, "decline")
    referral_id, decide_by = await submit(gated)
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        await start_timer(gated, client, referral_id)
        assert await timer_result(client, referral_id) is True

    row = await status_row(gated, referral_id)
    assert (row["status"], row["decision"]["eligible"], row["assessment_due_by"]) == ("declined", False, None)
    assert [reason["code"] for reason in row["decision"]["reasons"]] == ["approval_timed_out"]
    [(decided, metadata)] = await stored(gated, referral_id, "ApprovalDecided")
    assert (decided["approved"], decided["reason_code"], metadata["actor"]) == (
        False,
        "approval_timed_out",
        "referral-approval-workflow",
    )
    assert datetime.fromisoformat(decided["decided_at"]) >= decide_by
    assert await published(gated, referral_id) == [
        ReferralApprovalRequested.event_type,
        "org.divert.referral.declined.v1",
    ]


async def test_the_timer_never_accepts_a_referral_the_rules_declined(intake: Intake, temporal: Any) -> None:
    gated = gate(intake, "accept")
    referral_id, _ = await submit(gated, eligible=False)
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        await start_timer(gated, client, referral_id)
        assert await timer_result(client, referral_id) is True

    row = await status_row(gated, referral_id)
    assert (row["status"], row["decision"]["eligible"]) == ("declined", False)
    # The rules' kept reason, then the timer's.
    assert [reason["code"] for reason in row["decision"]["reasons"]] == [
        "drug_quantity_over_limit",
        "approval_timed_out",
    ]
    [(decided, _)] = await stored(gated, referral_id, "ApprovalDecided")
    assert (decided["approved"], decided["overrides_decline"]) == (False, False)
    assert ReferralAccepted.event_type not in await published(gated, referral_id)


async def test_a_referral_approved_before_decide_by_is_left_alone_by_the_timer(intake: Intake, temporal: Any) -> None:
    gated = gate(intake, "decline")  # were the timer to decide, it would decline: visibly wrong
    referral_id, decide_by = await submit(gated)
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        await start_timer(gated, client, referral_id)
        await approve(gated, referral_id)
        assert datetime.now(UTC) < decide_by  # decided in time
        assert await timer_result(client, referral_id) is False  # its activity decided nothing

    assert datetime.now(UTC) >= decide_by  # the timer did fire
    [(decided, metadata)] = await stored(gated, referral_id, "ApprovalDecided")
    assert (decided["approved"], decided["decided_by"], decided["reason_code"]) == (
        True,
        "prosecutor-demo",
        "meets_criteria",
    )
    assert metadata["actor"] == "prosecutor-demo"
    assert (await status_row(gated, referral_id))["status"] == "accepted"
    assert await published(gated, referral_id) == [ReferralApprovalRequested.event_type, ReferralAccepted.event_type]


async def test_a_timer_started_by_hand_with_an_early_decide_by_decides_nothing_before_intakes_own(
    intake: Intake, temporal: Any
) -> None:
    gated = gate(intake, "accept", within=timedelta(seconds=5))
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        referral_id, decide_by = await submit(gated)
        forged = ApprovalTimerInput(referral_id=referral_id, decide_by=datetime.now(UTC))
        handle = await client.start_workflow(
            ReferralApprovalWorkflow.run, forged, id=approval_workflow_id(referral_id), task_queue=TASK_QUEUE
        )
        # The activity ran at the forged time and was refused by intake's record: it waits to retry.
        async with asyncio.timeout(30):
            while True:
                pending = (await handle.describe()).raw_description.pending_activities
                if pending and pending[0].HasField("last_failure"):
                    break
                await asyncio.sleep(0.2)
        assert "not yet due" in pending[0].last_failure.message
        assert datetime.now(UTC) < decide_by
        assert (await status_row(gated, referral_id))["status"] == "pending_approval"
        assert await stored(gated, referral_id, "ApprovalDecided") == []

        assert await timer_result(client, referral_id) is True  # retried once intake's time was up

    [(decided, _)] = await stored(gated, referral_id, "ApprovalDecided")
    assert datetime.fromisoformat(decided["decided_at"]) >= decide_by
    assert (await status_row(gated, referral_id))["status"] == "accepted"


async def test_a_redelivered_request_runs_one_timer_and_a_decided_referral_starts_none(
    intake: Intake, temporal: Any
) -> None:
    gated = gate(intake, "accept")
    referral_id, _ = await submit(gated)
    decided_first, _ = await submit(gated)
    await approve(gated, decided_first)
    client = await temporal.connect()
    async with warrants_client(gated.settings) as http, build_worker(gated, client, http):
        await start_timer(gated, client, referral_id)
        first = await client.get_workflow_handle(approval_workflow_id(referral_id)).describe()
        await start_timer(gated, client, referral_id)  # the event again: a redelivery
        again = await client.get_workflow_handle(approval_workflow_id(referral_id)).describe()
        assert again.run_id == first.run_id
        assert await timer_result(client, referral_id) is True

        # Read once more after the timer decided: the record says it waits no longer.
        await start_timer(gated, client, referral_id)
        # The approval request of a referral its prosecutor decided: nothing to time.
        await start_timer(gated, client, decided_first)

    assert await is_gone(client, decided_first)
    latest = await client.get_workflow_handle(approval_workflow_id(referral_id)).describe()
    assert (latest.run_id, latest.status) == (first.run_id, WorkflowExecutionStatus.COMPLETED)
    query = f"WorkflowId = '{approval_workflow_id(referral_id)}'"
    async with asyncio.timeout(30):
        while True:  # visibility catches up with the history a moment later
            runs = [run async for run in client.list_workflows(query)]
            if runs and all(run.status != WorkflowExecutionStatus.RUNNING for run in runs):
                break
            await asyncio.sleep(0.2)
    assert [(run.run_id, run.status) for run in runs] == [(first.run_id, WorkflowExecutionStatus.COMPLETED)]
    assert len(await stored(gated, referral_id, "ApprovalDecided")) == 1
