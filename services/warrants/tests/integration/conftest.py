"""Fixtures of warrants' integration tests: a migrated database (SQLite, and PostgreSQL when
configured), the API over it, bearer tokens minted with the settings it was built with, lapse
bodies, and referral events and case milestones as the consumer delivers them.

Warrants makes a request only when its own record shows the referral accepted and its lapse
recorded by intake: `hear_lapse(body)` delivers both for a lapse body, `make_lapsed(...)` builds a
body and delivers them (what a test that raises a request does first).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_contracts.base import IntegrationEvent
from divert_contracts.codec import DecodedEvent
from divert_contracts.milestones import CaseAssessedMilestone
from divert_contracts.referrals import (
    Location,
    ReferralAccepted,
    ReferralAssessmentDeadlineLapsed,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
    RmsReference,
    Subject,
)
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
    """Headers for any caller: `token("program_manager", jurisdiction="king-county")`.

    A prosecutor's or court's token is state-wide (`jurisdiction: "*"`) unless the test names a
    jurisdiction; `jurisdiction=None` mints one without the claim (which warrants refuses).
    """

    def headers(role: Role, **claims: Any) -> Headers:
        claims.setdefault("subject", f"{role}-test")
        if role in ("prosecutor", "court"):
            claims.setdefault("jurisdiction", "*")
        return {"Authorization": f"Bearer {mint_token(warrants.settings, role=role, **claims)}"}

    return headers


@pytest.fixture
def deadline_worker(token: Token) -> Headers:
    """Intake's deadline worker, the one caller that raises requests."""
    return token("deadline_worker", subject="divert-intake-worker")


@pytest.fixture
def prosecutor(token: Token) -> Headers:
    """A state-wide prosecutor's office (`jurisdiction: "*"`): it reads every jurisdiction."""
    return token("prosecutor", subject="pao-1", jurisdiction="*")


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


def referral_accepted(body: dict[str, Any], **changes: Any) -> ReferralAccepted:
    """Intake's acceptance of the arrest diversion a lapse body is about, as intake publishes it:
    with who the person is, which warrants must never keep."""
    values: dict[str, Any] = {
        "referral_id": body["referral_id"],
        "jurisdiction": body["jurisdiction"],
        "pathway": "arrest_diversion",
        "referred_at": DUE - timedelta(days=30),
        "policy": body["jurisdiction"],
        "policy_version": "2025-01-01",
        "assessment_due_by": body["assessment_due_by"],
        "lapse_action": body["kind"],
        "rms": RmsReference(agency="SPD", case_number="2025-000123", officer_id="officer-1"),
        "subject": Subject(given_name="Alex", family_name="Example", phone="+1 206 555 0142"),
        "location": Location(precinct="West"),
        "offense_category": "drug_possession",
    }
    return ReferralAccepted.model_validate({**values, **changes})


def deadline_lapsed(body: dict[str, Any]) -> ReferralAssessmentDeadlineLapsed:
    """The lapse intake records before its worker tells warrants (the body's due and lapse times)."""
    return ReferralAssessmentDeadlineLapsed.model_validate(
        {
            "referral_id": body["referral_id"],
            "jurisdiction": body["jurisdiction"],
            "assessment_due_by": body["assessment_due_by"],
            "lapsed_at": body["lapsed_at"],
            "lapse_action": body["kind"],
        }
    )


def deadline_extended(referral_id: str | UUID, previous: datetime, due_by: datetime) -> ReferralDeadlineExtended:
    """A program manager moved the due time (with a free-text reason warrants must not keep)."""
    return ReferralDeadlineExtended(
        referral_id=UUID(str(referral_id)),
        jurisdiction="king-county",
        previous_due_by=previous,
        assessment_due_by=due_by,
        reason="hospitalised: case manager could not reach them",
        extended_at=previous - timedelta(days=1),
    )


def case_assessed(referral_id: str | UUID, completed_at: datetime) -> CaseAssessedMilestone:
    """The milestone that stops the clock: status only (its `on_time` is the case agency's view)."""
    return CaseAssessedMilestone(
        referral_id=UUID(str(referral_id)),
        jurisdiction="king-county",
        completed_at=completed_at,
        on_time=completed_at <= DUE,
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
def make_case_assessed() -> Callable[..., CaseAssessedMilestone]:
    """Build a `CaseAssessedMilestone` for a referral and a completion time."""
    return case_assessed


@pytest.fixture
def make_referral_accepted() -> Callable[..., ReferralAccepted]:
    """Build intake's `ReferralAccepted` for a lapse body's referral (fields overridable by keyword)."""
    return referral_accepted


@pytest.fixture
def make_deadline_lapsed() -> Callable[..., ReferralAssessmentDeadlineLapsed]:
    """Build intake's `ReferralAssessmentDeadlineLapsed` for a lapse body."""
    return deadline_lapsed


@pytest.fixture
def make_deadline_extended() -> Callable[..., ReferralDeadlineExtended]:
    """Build a `ReferralDeadlineExtended` for a referral, from one due time to a later one."""
    return deadline_extended


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


HearLapse = Callable[[dict[str, Any]], Awaitable[tuple[DecodedEvent, DecodedEvent]]]


@pytest.fixture
def hear_lapse(deliver: Deliver) -> HearLapse:
    """Deliver intake's acceptance and recorded lapse of a lapse body's referral (in that order),
    as warrants' consumer would: what makes the body's notice a request warrants may record."""

    async def hear(body: dict[str, Any]) -> tuple[DecodedEvent, DecodedEvent]:
        accepted = await deliver(referral_accepted(body), "/divert/intake")
        lapsed = await deliver(deadline_lapsed(body), "/divert/intake")
        return accepted, lapsed

    return hear


@pytest.fixture
def make_lapsed(hear_lapse: HearLapse) -> Callable[..., Awaitable[dict[str, Any]]]:
    """`await make_lapsed(**changes)`: a lapse body whose acceptance and lapse warrants has heard of."""

    async def make(**changes: Any) -> dict[str, Any]:
        body = lapse(**changes)
        await hear_lapse(body)
        return body

    return make
