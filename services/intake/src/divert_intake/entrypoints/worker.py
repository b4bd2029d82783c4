"""`divert-intake worker`: runs the deadline workflows and their activities."""

import asyncio
from uuid import UUID

import httpx
from temporalio.worker import Worker

from divert_intake.bootstrap import Intake, bootstrap, connect_temporal
from divert_intake.deadline.activities import DeadlineActivities
from divert_intake.deadline.models import TASK_QUEUE, LapseNotice
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_intake.service_layer import handlers
from divert_platform.auth import service_token


def lapse_recorder(intake: Intake):  # type: ignore[no-untyped-def]
    """The `record_lapse` activity's effect: write the lapse to intake's store in one transaction."""

    async def record(notice: LapseNotice) -> None:
        async with intake.unit_of_work() as uow:
            await handlers.record_lapse(uow, notice)

    return record


def warrant_check(intake: Intake):  # type: ignore[no-untyped-def]
    """The `request_warrant` activity's question to intake: is a warrant request still due?"""

    async def still_due(referral_id: str) -> bool:
        async with intake.unit_of_work() as uow:
            return await handlers.warrant_still_due(uow, UUID(referral_id))

    return still_due


async def main(stop: asyncio.Event) -> None:
    intake = bootstrap()
    client = await connect_temporal(intake.settings)
    async with httpx.AsyncClient(timeout=20) as http:
        activities = DeadlineActivities(
            http,
            intake.settings.warrants_url,
            lapse_recorder(intake),
            # Minted afresh per call in development (a day's lifetime); configured in production.
            token=lambda: service_token(intake.settings),
            warrant_still_due=warrant_check(intake),
        )
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[ReferralDeadlineWorkflow],
            activities=[activities.request_warrant, activities.record_lapse],
        )
        async with worker:
            await stop.wait()
    await intake.engine.dispose()
