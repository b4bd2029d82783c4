"""The deadline clock under faults, with real processes: the warrants API down during the lapse,
and the Temporal server restarted on its SQLite file in the middle of the window.

The worker under test is the one `divert-intake worker` runs (`bootstrap.build_worker`: the
workflow with intake's real activities over the intake database, the warrant check included, and
its HTTP client for warrants); warrants is the real `divert-warrants api` process, reached over
HTTP like in production, and its consumer, which learns of the lapse from intake's events on the
broker (until it has, warrants answers `lapse-not-recorded` and the worker retries).
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from divert_intake.adapters.referral_views import find_status
from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import Intake, build_worker, warrants_client
from divert_intake.deadline.models import workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow


@pytest.fixture
def intake(deadline_intake: Intake) -> Intake:
    """Intake calling the warrants processes, its relay publishing to the broker warrants reads."""
    return deadline_intake


async def status_of(intake: Intake, referral_id: str) -> str | None:
    async with intake.sessions() as session:
        row = await find_status(session, UUID(referral_id))
    return row["status"] if row else None


async def test_warrants_down_during_the_lapse_delays_the_request_and_never_loses_or_doubles_it(
    intake: Intake, warrants: Any, temporal: Any, refer: Any
) -> None:
    client = await temporal.connect()
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        deadline = await refer(intake, timedelta(seconds=1))
        await TemporalDeadlineClock(client).start(deadline)
        # The lapse is recorded in intake while warrants is still unreachable...
        async with asyncio.timeout(30):
            while await status_of(intake, deadline.referral_id) != "lapsed":  # noqa: ASYNC110 - polling a database
                await asyncio.sleep(0.2)
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        await asyncio.sleep(3)  # ...and request attempts keep failing meanwhile
        assert (await handle.query(ReferralDeadlineWorkflow.status)).state == "lapsing"
        warrants.start()
        async with asyncio.timeout(60):
            result = await handle.result()
    assert result.outcome == "lapsed"
    [request] = warrants.requests_for(deadline.referral_id)
    assert request["warrant_request_id"] == result.warrant_request_id


async def test_the_timer_survives_a_temporal_restart_mid_window(
    intake: Intake, warrants: Any, temporal: Any, refer: Any
) -> None:
    warrants.start()
    deadline = await refer(intake, timedelta(seconds=8))
    client = await temporal.connect()
    await TemporalDeadlineClock(client).start(deadline)

    temporal.stop()  # the server goes away mid-window; its SQLite file keeps the timer
    await asyncio.sleep(1)
    temporal.start()

    client = await temporal.connect()
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        async with asyncio.timeout(60):
            result = await handle.result()
    assert result.outcome == "lapsed"
    assert datetime.now(UTC) >= deadline.assessment_due_by
    assert len(warrants.requests_for(deadline.referral_id)) == 1
    assert await status_of(intake, deadline.referral_id) == "lapsed"
