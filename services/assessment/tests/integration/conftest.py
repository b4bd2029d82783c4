"""Fixtures of assessment's integration tests: a migrated database, the API over it, and a way
to open a case the way the consumer does."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_assessment.bootstrap import MIGRATIONS, Assessment, bootstrap
from divert_assessment.config import AssessmentSettings
from divert_assessment.entrypoints.api import build_api
from divert_assessment.service_layer import handlers
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import Location, ReferralAccepted, RmsReference, Subject
from divert_platform.clock import utcnow
from divert_platform.testing import migrate

UNREACHABLE_BROKER = "127.0.0.1:1"


@pytest_asyncio.fixture
async def assessment(database_url: str) -> AsyncIterator[Assessment]:
    """Assessment's parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(AssessmentSettings(database_url=database_url, kafka_bootstrap=UNREACHABLE_BROKER))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


@pytest_asyncio.fixture
async def client(assessment: Assessment) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process."""
    transport = httpx.ASGITransport(app=build_api(assessment))
    async with httpx.AsyncClient(transport=transport, base_url="http://assessment") as http:
        yield http


def referral_accepted(**overrides: Any) -> ReferralAccepted:
    """An accepted arrest diversion referred an hour ago, due in three days."""
    referred_at = utcnow() - timedelta(hours=1)
    fields: dict[str, Any] = {
        "referral_id": uuid4(),
        "jurisdiction": "king-county",
        "pathway": "arrest_diversion",
        "referred_at": referred_at,
        "policy": "king-county",
        "policy_version": "2025-01",
        "assessment_due_by": referred_at + timedelta(days=3),
        "lapse_action": "warrant_request",
        "rms": RmsReference(agency="SPD", case_number="24-000123", officer_id="o-1"),
        "subject": Subject(
            given_name="Ana", family_name="Diaz", date_of_birth=date(1990, 1, 2), rms_person_id="P-9", phone="555-0100"
        ),
        "location": Location(precinct="East"),
        "offense_category": "drug_possession",
    }
    return ReferralAccepted(**(fields | overrides))


def delivered(event: ReferralAccepted, ce_id: str | None = None) -> DecodedEvent:
    """`event` as the consumer runner hands it to a handler."""
    return DecodedEvent(
        id=ce_id or str(uuid4()),
        source="/divert/intake",
        type=event.event_type,
        subject=event.cloudevent_subject,
        time=datetime.now(UTC),
        event=event,
    )


OpenCase = Callable[..., Awaitable[ReferralAccepted]]
Rows = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def make_referral_accepted() -> Callable[..., ReferralAccepted]:
    """Build a `ReferralAccepted` (fields overridable by keyword)."""
    return referral_accepted


@pytest.fixture
def as_delivered() -> Callable[..., DecodedEvent]:
    """Wrap an event as the consumer runner hands it to a handler."""
    return delivered


@pytest.fixture
def open_case(assessment: Assessment) -> OpenCase:
    """Open a case through the consumer's handler, in its own committed transaction."""

    async def open_one(**overrides: Any) -> ReferralAccepted:
        event = referral_accepted(**overrides)
        async with assessment.unit_of_work() as uow:
            await handlers.when_referral_accepted_open_case(uow, delivered(event))
            await uow.commit()
        return event

    return open_one


@pytest.fixture
def rows(assessment: Assessment) -> Rows:
    """Read a table's rows (as mappings) in a fresh transaction: `await rows(table, *where)`."""

    async def read(table: Any, *where: Any) -> list[dict[str, Any]]:
        async with assessment.unit_of_work() as uow:
            return [dict(row._mapping) for row in await uow.session.execute(select(table).where(*where))]

    return read
