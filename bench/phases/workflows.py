"""Many open deadline workflows: how fast they start, and what they cost the worker and the server.

`ReferralDeadlineWorkflow` is started directly with the Temporal client (as intake's consumer
does, same id scheme, task queue and payload converter) with King County's 30-day window, so every
one stays open, waiting on its timer. Intake's own worker runs their first workflow task. Memory
is the resident set of the intake worker and the Temporal dev server before and after.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.context import Context
from bench.procs import memory_mb
from bench.workload import JURISDICTION
from divert_intake.deadline.models import TASK_QUEUE, DeadlineInput, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow

PROCESSES = ("intake-worker", "temporal")
CONCURRENCY = 16


async def workflows_phase(ctx: Context) -> dict[str, Any]:
    """Start the configured number of deadline workflows and measure time and memory."""
    count = ctx.config.workflows
    client = await Client.connect(ctx.stack.temporal_address, data_converter=pydantic_data_converter)
    before = {name: memory_mb(ctx.stack.pid(name)) for name in PROCESSES}
    due = datetime.now(UTC) + timedelta(days=30)
    ids = [str(uuid4()) for _ in range(count)]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def start(referral_id: str) -> None:
        deadline = DeadlineInput(
            referral_id=referral_id, jurisdiction=JURISDICTION, assessment_due_by=due, lapse_action="warrant_request"
        )
        async with gate:
            await client.start_workflow(
                ReferralDeadlineWorkflow.run, deadline, id=workflow_id(referral_id), task_queue=TASK_QUEUE
            )

    started = time.perf_counter()
    await asyncio.gather(*(start(referral_id) for referral_id in ids))
    start_seconds = time.perf_counter() - started
    waiting = await _until_waiting(client, ids[-20:], within=ctx.config.settle_timeout)
    settled_seconds = time.perf_counter() - started
    after = {name: memory_mb(ctx.stack.pid(name)) for name in PROCESSES}
    running = await client.count_workflows("WorkflowType = 'ReferralDeadlineWorkflow' AND ExecutionStatus = 'Running'")
    database = ctx.stack.data_dir / "temporal.db"
    return {
        "workflows": count,
        "start_seconds": round(start_seconds, 1),
        "starts_per_s": round(count / start_seconds, 1),
        "all_waiting_on_timer": waiting,
        "seconds_until_worker_caught_up": round(settled_seconds, 1),
        "open_deadline_workflows": running.count,
        "memory_before": before,
        "memory_after": after,
        "temporal_db_mb": round(database.stat().st_size / 2**20, 1) if database.exists() else None,
    }


async def _until_waiting(client: Client, ids: list[str], *, within: float) -> bool:
    """Whether the worker has run the first task of each of `ids` (its timer is then in the history)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        lengths = [(await client.get_workflow_handle(workflow_id(i)).describe()).history_length for i in ids]
        # started, task scheduled, started, completed, timer started
        if all(length >= 5 for length in lengths):
            return True
        await asyncio.sleep(1.0)
    return False
