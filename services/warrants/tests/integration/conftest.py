"""Fixtures of warrants' integration tests: a migrated database (SQLite, and PostgreSQL when
configured), the API over it, bearer tokens minted with the settings it was built with, lapse
bodies, and case/referral events as the consumer delivers them."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralWithdrawn
from divert_platform.auth import Role, mint_token
from divert_platform.cause import caused_by_event
from divert_platform.testing import migrate
from divert_warrants.bootstrap import MIGRATIONS, Warrants, bootstrap
from divert_warrants.config import WarrantsSettings
from divert_warrants.entrypoints.api import build_api
from divert_warrants.entrypoints.consumer import HANDLERS

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
UNREACHABLE_BROKER = "127.0.0.1:1"


@pytest_asyncio.fixture
async def warrants(database_url: str) -> AsyncIterator[Warrants]:
    """Warrants' parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(WarrantsSettings(database_url=database_url, kafka_bootstrap=UNREACHABLE_BROKER))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


@pytest_asyncio.fixture
async def client(warrants: Warrants) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process; it sends no token of its own."""
    transport = httpx.ASGITransport(app=build_api(warrants))
    async with httpx.AsyncClient(transport=transport, base_url="http://warrants") as http:
        yield http


Headers = dict[str, str]
Token = Callable[..., Headers]


@pytest.fixture
def token(warrants: Warrants) -> Token:
    """Headers for any caller: `token("program_manager", jurisdiction="king-county")`."""

    def headers(role: Role, **claims: Any) -> Headers:
        claims.setdefault("subject", f"{role}-test")
        return {"Authorization": f"Bearer {mint_token(warrants.settings, role=role, **claims)}"}

    return headers


@pytest.fixture
def service(token: Token) -> Headers:
    """Intake's deadline workflow, the one caller that raises requests."""
    return token("service", subject="divert-intake")


@pytest.fixture
def prosecutor(token: Token) -> Headers:
    """A prosecutor's office without a jurisdiction claim: it reads every jurisdiction."""
    return token("prosecutor", subject="pao-1")


def lapse(**changes: Any) -> dict[str, Any]:
    """A body as intake's deadline activity sends it: due at DUE, lapsed two seconds later."""
    body = {
        "referral_id": str(uuid4()),
        "jurisdiction": "king-county",
        "kind": "warrant_request",
        "assessment_due_by": DUE.isoformat(),
        "lapsed_at": (DUE + timedelta(seconds=2)).isoformat(),
    }
    body.update(changes)
    return body


def assessment_completed(referral_id: str | UUID, completed_at: datetime) -> CaseAssessmentCompleted:
    """The case event that stops the clock, with needs (which warrants must never keep)."""
    return CaseAssessmentCompleted.model_validate(
        {
            "referral_id": str(referral_id),
            "jurisdiction": "king-county",
            "completed_at": completed_at,
            "assessment_due_by": DUE,
            "on_time": completed_at <= DUE,
            "needs": [{"domain": "substance_use_treatment", "priority": 1, "part2": True}],
        }
    )


def referral_withdrawn(referral_id: str | UUID, withdrawn_at: datetime = DUE) -> ReferralWithdrawn:
    """The referring agency withdrew the referral (with a free-text reason warrants must not keep)."""
    return ReferralWithdrawn(
        referral_id=UUID(str(referral_id)),
        jurisdiction="king-county",
        withdrawn_at=withdrawn_at,
        reason="officer error: wrong person",
    )


def delivered(event: IntegrationEvent, source: str = "/divert/assessment") -> DecodedEvent:
    """`event` as the consumer runner hands it to a handler."""
    return DecodedEvent(
        id=str(uuid4()),
        source=source,
        type=event.event_type,
        subject=event.cloudevent_subject,
        time=datetime.now(UTC),
        event=event,
    )


Rows = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def due() -> datetime:
    """The due time every `make_lapse()` body carries."""
    return DUE


@pytest.fixture
def make_lapse() -> Callable[..., dict[str, Any]]:
    """Build a lapse body (fields overridable by keyword)."""
    return lapse


@pytest.fixture
def make_assessment_completed() -> Callable[..., CaseAssessmentCompleted]:
    """Build a `CaseAssessmentCompleted` for a referral and a completion time."""
    return assessment_completed


@pytest.fixture
def make_referral_withdrawn() -> Callable[..., ReferralWithdrawn]:
    """Build a `ReferralWithdrawn` for a referral."""
    return referral_withdrawn


@pytest.fixture
def as_delivered() -> Callable[..., DecodedEvent]:
    """Wrap an event as the consumer runner hands it to a handler."""
    return delivered


@pytest.fixture
def rows(warrants: Warrants) -> Rows:
    """Read a table's rows (as mappings) in a fresh transaction: `await rows(table, *where)`."""

    async def read(table: Any, *where: Any) -> list[dict[str, Any]]:
        async with warrants.unit_of_work() as uow:
            query = select(table).where(*where)
            for order in ("position", "id"):  # events and outbox rows in the order written
                if order in table.c:
                    query = query.order_by(table.c[order])
            return [dict(row._mapping) for row in await uow.session.execute(query)]

    return read


Deliver = Callable[..., Awaitable[DecodedEvent]]


@pytest.fixture
def deliver(warrants: Warrants) -> Deliver:
    """Apply `event` through the consumer's handler for its type, in its own committed transaction."""

    async def apply(event: IntegrationEvent, source: str = "/divert/assessment") -> DecodedEvent:
        message = delivered(event, source)
        unit = warrants.unit_of_work()
        unit.cause = caused_by_event(message.source, message.id, message.time)
        async with unit as uow:
            await HANDLERS[type(event)](event, uow)
            await uow.commit()
        return message

    return apply
