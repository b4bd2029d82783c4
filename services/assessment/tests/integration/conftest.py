"""Fixtures of assessment's integration tests: a migrated database, the API over it, tokens to
call it with, and a way to open a case the way the consumer does.

Cases of king-county and snohomish belong to `CASE_AGENCY`; `client` is one of its case managers
(`cm-7`). `bearer(role, ...)` mints the headers of any other caller, signed like the app expects.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_assessment.bootstrap import MIGRATIONS, Assessment, bootstrap
from divert_assessment.config import AssessmentSettings
from divert_assessment.entrypoints.api import build_api
from divert_assessment.entrypoints.consumer import consumer_handlers
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import Location, ReferralAccepted, RmsReference, Subject
from divert_platform.auth import Role, mint_token
from divert_platform.cause import caused_by_event
from divert_platform.clock import utcnow
from divert_platform.settings import DEFAULT_CASE_AGENCIES
from divert_platform.testing import migrate

UNREACHABLE_BROKER = "127.0.0.1:1"
CASE_AGENCY = DEFAULT_CASE_AGENCIES["king-county"]
"""The agency of `client`'s case manager: it serves king-county, and snohomish in these tests."""
OTHER_AGENCY = DEFAULT_CASE_AGENCIES["albany"]
"""Another case agency (albany's), whose case managers must see nothing of `CASE_AGENCY`'s."""
CASE_AGENCIES = DEFAULT_CASE_AGENCIES | {"snohomish": CASE_AGENCY}
DEFAULT_CLAIMS: dict[str, dict[str, str | None]] = {
    "case_manager": {"agency": CASE_AGENCY},
    "program_manager": {"jurisdiction": "king-county"},
    "evaluator": {"jurisdiction": "king-county"},
    "officer": {"agency": "SPD"},
}

Bearer = Callable[..., dict[str, str]]


def settings_for(database_url: str, **overrides: Any) -> AssessmentSettings:
    """The settings every test app is built with (tokens must be minted with the same ones)."""
    fields: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap": UNREACHABLE_BROKER,
        "case_agencies": CASE_AGENCIES,
    }
    return AssessmentSettings(**(fields | overrides))


def bearer_headers(settings: AssessmentSettings, role: Role = "case_manager", **claims: Any) -> dict[str, str]:
    """`Authorization` for a caller in `role`: subject `cm-7` and the role's usual scope unless
    `subject`, `agency` or `jurisdiction` say otherwise (None leaves the claim out)."""
    claims = {"subject": "cm-7"} | DEFAULT_CLAIMS.get(role, {}) | claims
    return {"Authorization": f"Bearer {mint_token(settings, role=role, **claims)}"}


@pytest_asyncio.fixture
async def assessment(database_url: str) -> AsyncIterator[Assessment]:
    """Assessment's parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(settings_for(database_url))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


@pytest.fixture
def bearer(assessment: Assessment) -> Bearer:
    """Headers with a token the app accepts: `bearer("program_manager", jurisdiction="snohomish")`."""
    return partial(bearer_headers, assessment.settings)


@pytest_asyncio.fixture
async def anonymous(assessment: Assessment) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process, with no token."""
    transport = httpx.ASGITransport(app=build_api(assessment))
    async with httpx.AsyncClient(transport=transport, base_url="http://assessment") as http:
        yield http


@pytest_asyncio.fixture
async def client(assessment: Assessment, bearer: Bearer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process as `cm-7`, a case manager of `CASE_AGENCY`
    (a request's own `Authorization` header takes over from it)."""
    transport = httpx.ASGITransport(app=build_api(assessment))
    async with httpx.AsyncClient(transport=transport, base_url="http://assessment", headers=bearer()) as http:
        yield http


@pytest.fixture
def program_manager(bearer: Bearer) -> dict[str, str]:
    """Headers of a program manager of king-county."""
    return bearer("program_manager", subject="pm-1")


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
def open_case_handler(assessment: Assessment) -> Any:
    """`when_referral_accepted_open_case` as the consumer calls it: `await open_case_handler(event, uow)`."""
    return consumer_handlers(assessment)[ReferralAccepted]


Deliver = Callable[..., Awaitable[DecodedEvent]]


@pytest.fixture
def deliver(assessment: Assessment, open_case_handler: Any) -> Deliver:
    """Apply `event` as the consumer runner does, caused by it, in its own committed transaction."""

    async def apply(event: ReferralAccepted, ce_id: str | None = None) -> DecodedEvent:
        message = delivered(event, ce_id)
        unit = assessment.unit_of_work()
        unit.cause = caused_by_event(message.source, message.id, message.time)
        async with unit as uow:
            await open_case_handler(event, uow)
            await uow.commit()
        return message

    return apply


@pytest.fixture
def open_case(deliver: Deliver) -> OpenCase:
    """Open a case through the consumer's handler, in its own committed transaction."""

    async def open_one(**overrides: Any) -> ReferralAccepted:
        event = referral_accepted(**overrides)
        await deliver(event)
        return event

    return open_one


@pytest.fixture
def rows(assessment: Assessment) -> Rows:
    """Read a table's rows (as mappings) in a fresh transaction: `await rows(table, *where)`."""

    async def read(table: Any, *where: Any) -> list[dict[str, Any]]:
        async with assessment.unit_of_work() as uow:
            return [dict(row._mapping) for row in await uow.session.execute(select(table).where(*where))]

    return read


@dataclass(frozen=True)
class Caseload:
    """The mixed caseload's referral ids by name, and a window that holds all but `old`."""

    ids: dict[str, UUID]
    referred_from: datetime
    referred_to: datetime


@pytest_asyncio.fixture
async def caseload(client: httpx.AsyncClient, open_case: OpenCase) -> Caseload:
    """A realistic mix built through the API, in two jurisdictions (see `report_of_the_caseload`).

    king-county: k1 contacted 2 h after referral, assessed on time, enrolled, now inactive, with a
    Part 2 consent; k2 contacted after 10 h, assessed late, declined and closed as declined; k3
    pending with a revoked consent. snohomish: s1 (no due time) contacted after 30 h, assessed,
    enrolled, closed as moved away and reopened; s2 assessed, enrolled, closed as transferred;
    s3 only attempted, closed for long-term no contact, then re-referred as r1. `old` was
    referred 40 days ago, outside the window.
    """
    now = utcnow()
    ids: dict[str, UUID] = {}

    async def opened(name: str, days_ago: float, due_in_days: float | None, jurisdiction: str, **extra: Any) -> str:
        referred_at = now - timedelta(days=days_ago)
        due = referred_at + timedelta(days=due_in_days) if due_in_days is not None else None
        subject = Subject(given_name=name.upper(), family_name="Doe", rms_person_id=f"P-{name}", phone="555-0101")
        fields = {"jurisdiction": jurisdiction, "policy": jurisdiction, "subject": subject} | extra
        accepted = await open_case(referred_at=referred_at, assessment_due_by=due, **fields)
        ids[name] = accepted.referral_id
        return f"/v1/cases/{accepted.referral_id}"

    async def post(url: str, path: str, body: dict[str, Any] | None = None, status: int = 200) -> None:
        response = await client.post(f"{url}/{path}", json=body or {})
        assert response.status_code == status, response.text

    def at(url_referred: float, hours: float) -> str:
        return (now - timedelta(days=url_referred) + timedelta(hours=hours)).isoformat()

    def assessment(completed_at: str, *needs: tuple[str, int]) -> dict[str, Any]:
        return {
            "completed_at": completed_at,
            "case_manager_id": "cm-7",
            "needs": [dict(zip(("domain", "priority"), n, strict=True)) for n in needs],
        }

    consent = {"purpose": "care_coordination", "expires_at": (now + timedelta(days=60)).isoformat()}
    k1 = await opened("k1", 5, 3, "king-county")
    await post(k1, "contacts", {"at": at(5, 1), "method": "phone", "outcome": "attempted"}, 201)
    await post(k1, "contacts", {"at": at(5, 2), "method": "in_person", "outcome": "made"}, 201)
    await post(k1, "consents", consent | {"parties": ["demo-health-clinic"], "scope": "full_case", "part2": True}, 201)
    await post(k1, "assessment", assessment(at(5, 24), ("substance_use_treatment", 1), ("housing", 2)), 201)
    await post(k1, "manager", {"case_manager_id": "cm-9"})
    await post(k1, "enrollment", {"enrolled_at": at(5, 30)})
    await post(k1, "engagement", {"status": "inactive"})
    k2 = await opened("k2", 6, 3, "king-county")
    await post(k2, "contacts", {"at": at(6, 10), "method": "outreach", "outcome": "made"}, 201)
    await post(k2, "assessment", assessment(at(1, 0), ("food", 3)), 201)
    await post(k2, "decline", {"reason": "not_interested"})
    await post(k2, "closure", {"reason": "declined", "closed_at": utcnow().isoformat()})
    k3 = await opened("k3", 2, 3, "king-county")
    revoked = await client.post(
        f"{k3}/consents", json=consent | {"parties": ["demo-case-agency"], "scope": "contact_details", "part2": False}
    )
    await post(k3, f"consents/{revoked.json()['consent_id']}/revocation")
    s1 = await opened("s1", 8, None, "snohomish", pathway="social_contact", lapse_action=None)
    await post(s1, "contacts", {"at": at(8, 30), "method": "text", "outcome": "made"}, 201)
    await post(s1, "assessment", assessment(at(7, 0), ("mental_health", 1)), 201)
    await post(s1, "enrollment", {"enrolled_at": at(7, 1)})
    await post(s1, "closure", {"reason": "moved_away", "closed_at": utcnow().isoformat()})
    await post(s1, "reopening")
    s2 = await opened("s2", 4, 3, "snohomish")
    await post(s2, "assessment", assessment(at(4, 5), ("id_documents", 4)), 201)
    await post(s2, "enrollment", {"enrolled_at": at(4, 6)})
    await post(s2, "closure", {"reason": "transferred", "closed_at": utcnow().isoformat()})
    s3 = await opened("s3", 3, 3, "snohomish")
    await post(s3, "contacts", {"at": at(3, 1), "method": "phone", "outcome": "attempted"}, 201)
    await post(s3, "closure", {"reason": "long_term_no_contact", "closed_at": utcnow().isoformat()})
    await opened("r1", 1, 3, "snohomish", subject=Subject(given_name="S3", family_name="Doe", rms_person_id="P-s3"))
    await opened("old", 40, 3, "king-county")
    return Caseload(ids, now - timedelta(days=30), now + timedelta(minutes=1))
