"""Intake's REST API over real SQLite and PostgreSQL databases."""

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from divert_intake.bootstrap import MIGRATIONS, Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api
from divert_platform.schema import events, outbox
from divert_platform.testing import migrate

REFERRAL: dict[str, Any] = {
    "jurisdiction": "king-county",
    "pathway": "arrest_diversion",
    "referred_at": "2026-11-02T14:05:00-08:00",
    "rms": {"agency": "SPD", "case_number": "2026-334455", "officer_id": "7781"},
    "subject": {
        "given_name": "Jordan",
        "family_name": "Doe",
        "date_of_birth": "1988-04-02",
        "rms_person_id": "P-99812",
        "phone": "+12065550100",
    },
    "location": {"precinct": "West", "neighborhood": "Belltown"},
    "offense": {
        "category": "drug_possession",
        "statute": "RCW 69.50.4013",
        "drug_quantity_grams": 1.2,
        "drug_type": "opioid",
    },
    "screening": {
        "amenable": True,
        "dealing_for_profit": False,
        "exploits_minors": False,
        "promotes_prostitution": False,
        "disqualifying_convictions": [],
        "on_state_probation": False,
        "in_treatment_court": False,
        "no_contact_order_with_participant": False,
    },
    "contact_drivers": ["drug_use"],
}


@pytest_asyncio.fixture
async def intake(database_url: str) -> AsyncIterator[Intake]:
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(IntakeSettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    yield parts
    await parts.engine.dispose()


@pytest_asyncio.fixture
async def client(intake: Intake) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api(intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


async def test_an_eligible_arrest_diversion_is_accepted_and_queued_for_case_agencies(
    client: httpx.AsyncClient, intake: Intake
) -> None:
    response = await client.post("/v1/referrals", json=REFERRAL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["decision"] == {
        "eligible": True,
        "policy": "king-county",
        "policy_version": "2026-01-01",
        "reasons": [],
    }
    assert body["assessment_due_by"] == "2026-12-02T23:59:59.999999-08:00"

    async with intake.sessions() as session:
        [row] = (await session.execute(select(outbox))).all()
    assert row.event_type == "org.divert.referral.accepted.v1"
    assert row.message_key == body["referral_id"]
    assert row.data["subject"]["given_name"] == "Jordan"


async def test_screening_facts_are_never_stored(client: httpx.AsyncClient, intake: Intake) -> None:
    referral = copy.deepcopy(REFERRAL)
    referral["screening"]["disqualifying_convictions"] = ["ZZ-UNIQUE-CONVICTION-MARKER"]
    assert (await client.post("/v1/referrals", json=referral)).status_code == 201
    async with intake.sessions() as session:
        stored = [dict(row._mapping) for table in (events, outbox) for row in await session.execute(select(table))]
    dump = json.dumps(stored, default=str)
    assert "ZZ-UNIQUE-CONVICTION-MARKER" not in dump and "on_state_probation" not in dump
    assert "disqualifying_conviction" in dump  # the reason code is kept, the fact is not


async def test_the_police_view_shows_status_in_the_jurisdictions_time(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/referrals", json=REFERRAL)).json()
    response = await client.get(f"/v1/referrals/{created['referral_id']}")
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "accepted"
    assert view["assessment_due_by"] == created["assessment_due_by"]
    assert "subject" not in view and "screening" not in view


async def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(
    client: httpx.AsyncClient, intake: Intake
) -> None:
    first = await client.post("/v1/referrals", json=REFERRAL, headers={"Idempotency-Key": "rms-retry-1"})
    again = await client.post("/v1/referrals", json=REFERRAL, headers={"Idempotency-Key": "rms-retry-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    async with intake.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(outbox)) == 1


async def test_reusing_an_idempotency_key_for_another_body_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/v1/referrals", json=REFERRAL, headers={"Idempotency-Key": "k"})
    other = copy.deepcopy(REFERRAL)
    other["rms"]["case_number"] = "different"
    response = await client.post("/v1/referrals", json=other, headers={"Idempotency-Key": "k"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_ineligible_referral_reports_every_reason(client: httpx.AsyncClient, intake: Intake) -> None:
    referral = copy.deepcopy(REFERRAL)
    referral["screening"].update(amenable=False, exploits_minors=True)
    response = await client.post("/v1/referrals", json=referral)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "ineligible" and body["assessment_due_by"] is None
    assert [r["code"] for r in body["decision"]["reasons"]] == ["not_amenable", "exploits_minors"]
    async with intake.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(outbox)) == 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r["subject"].pop("given_name"), "body.subject.given_name"),
        (lambda r: r.update(pathway="jail"), "body.pathway"),
        (lambda r: r.update(referred_at="2026-11-02T14:05:00"), "body.referred_at"),
        (lambda r: r["screening"].pop("amenable"), "body.screening.amenable"),
        (lambda r: r.update(jurisdiction="atlantis"), "body.jurisdiction"),
        (lambda r: r.update(referred_at="2999-01-01T00:00:00Z"), "body.referred_at"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(client: httpx.AsyncClient, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    referral = copy.deepcopy(REFERRAL)
    mutate(referral)
    response = await client.post("/v1/referrals", json=referral)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/referrals", content=b'{"jurisdiction": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["status"] == 422


async def test_unknown_referral_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/referrals/8a0f0e55-5b5e-4c39-9d43-2d7c1f3b6a10")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_readiness_reports_an_unreachable_broker(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["broker"].startswith("unavailable")
