"""The API's dependencies can be replaced (`app.dependency_overrides`): here the unit of work, to
lose the race for a referral's event stream on purpose and see what the route does about it."""

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import httpx
import pytest_asyncio
from fastapi import Depends, FastAPI, Request
from sqlalchemy import func, select

from divert_contracts.base import IntegrationEvent
from divert_intake.bootstrap import Intake
from divert_intake.entrypoints.api import build_api
from divert_intake.service_layer.unit_of_work import SqlIntakeUnitOfWork
from divert_platform.auth import Principal, authenticated
from divert_platform.dependencies import unit_of_work
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.schema import events


class LosingUnitOfWork(SqlIntakeUnitOfWork):
    """Intake's real unit of work whose first `losses` commits find another writer was first."""

    losses = 0

    async def _commit(self) -> Sequence[IntegrationEvent]:
        if LosingUnitOfWork.losses > 0:
            LosingUnitOfWork.losses -= 1
            raise ConcurrencyConflict("referral-x", 1)
        return await super()._commit()


@pytest_asyncio.fixture
async def app(intake: Intake) -> AsyncIterator[FastAPI]:
    api = build_api(intake)

    async def losing_unit(request: Request, caller: Annotated[Principal, Depends(authenticated)]) -> Any:
        uow = LosingUnitOfWork(intake.sessions, intake.settings.event_source, intake.policies)
        uow.cause = caller.cause()
        return uow

    api.dependency_overrides[unit_of_work] = losing_unit
    yield api


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


async def stored_events(intake: Intake, referral_id: str) -> int:
    async with intake.sessions() as session:
        query = select(func.count()).select_from(events).where(events.c.stream_id == f"referral-{referral_id}")
        return int(await session.scalar(query) or 0)


async def test_a_withdrawal_that_lost_a_race_is_retried_from_a_fresh_transaction(
    http: httpx.AsyncClient, intake: Intake, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    created = (await http.post("/v1/referrals", json=referral_body, headers=officer)).json()
    LosingUnitOfWork.losses = 2

    withdrawn = await http.post(
        f"/v1/referrals/{created['referral_id']}/withdrawal", json={"reason": "wrong person"}, headers=officer
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert LosingUnitOfWork.losses == 0
    assert await stored_events(intake, created["referral_id"]) == 2  # accepted, withdrawn: once each


async def test_a_withdrawal_that_keeps_losing_is_a_409_and_changes_nothing(
    http: httpx.AsyncClient, intake: Intake, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    created = (await http.post("/v1/referrals", json=referral_body, headers=officer)).json()
    LosingUnitOfWork.losses = 3

    refused = await http.post(
        f"/v1/referrals/{created['referral_id']}/withdrawal", json={"reason": "wrong person"}, headers=officer
    )

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert await stored_events(intake, created["referral_id"]) == 1
    status = await http.get(f"/v1/referrals/{created['referral_id']}", headers=officer)
    assert status.json()["status"] == "accepted"
