"""Intake's REST API over real SQLite and PostgreSQL databases, called as an SPD officer (and King
County's program manager for extensions). Fixtures come from conftest.py."""

import copy
import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from divert_intake.bootstrap import Intake
from divert_platform.schema import events, outbox

Headers = dict[str, str]
Token = Callable[..., Headers]


async def test_an_eligible_arrest_diversion_is_accepted_and_queued_for_case_agencies(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    response = await client.post("/v1/referrals", json=referral_body, headers=officer)
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


async def test_screening_facts_are_never_stored(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    referral = copy.deepcopy(referral_body)
    referral["screening"]["disqualifying_convictions"] = ["ZZ-UNIQUE-CONVICTION-MARKER"]
    assert (await client.post("/v1/referrals", json=referral, headers=officer)).status_code == 201
    async with intake.sessions() as session:
        stored = [dict(row._mapping) for table in (events, outbox) for row in await session.execute(select(table))]
    dump = json.dumps(stored, default=str)
    assert "ZZ-UNIQUE-CONVICTION-MARKER" not in dump and "on_state_probation" not in dump
    # Nor which screening answer excluded the person: only that screening did (see
    # test_intake_screening_reasons.py for every other place).
    assert "disqualifying_conviction" not in dump and '"code": "screening"' in dump


async def test_the_police_view_shows_status_and_nothing_else(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    created = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    response = await client.get(f"/v1/referrals/{created['referral_id']}", headers=officer)
    assert response.status_code == 200
    assert response.json() == {
        "referral_id": created["referral_id"],
        "status": "accepted",
        "pathway": "arrest_diversion",
        "jurisdiction": "king-county",
        "assessment_due_by": created["assessment_due_by"],  # in the jurisdiction's time zone
        "assessed_on_time": None,
        "enrolled": False,
        "warrant_requested": False,
        "case_closed": False,
        "approval_due_by": None,  # set only while a gated referral waits for its approver
    }


async def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    first = await client.post(
        "/v1/referrals", json=referral_body, headers={**officer, "Idempotency-Key": "rms-retry-1"}
    )
    again = await client.post(
        "/v1/referrals", json=referral_body, headers={**officer, "Idempotency-Key": "rms-retry-1"}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    async with intake.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(outbox)) == 1


async def test_reusing_an_idempotency_key_for_another_body_is_a_conflict(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    await client.post("/v1/referrals", json=referral_body, headers={**officer, "Idempotency-Key": "k"})
    other = copy.deepcopy(referral_body)
    other["rms"]["case_number"] = "different"
    response = await client.post("/v1/referrals", json=other, headers={**officer, "Idempotency-Key": "k"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_declined_referral_is_201_reports_every_reason_and_is_counted(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    referral = copy.deepcopy(referral_body)
    referral["screening"].update(amenable=False, exploits_minors=True)
    response = await client.post("/v1/referrals", json=referral, headers=officer)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "declined" and body["assessment_due_by"] is None
    assert [r["code"] for r in body["decision"]["reasons"]] == ["not_amenable", "exploits_minors"]
    async with intake.sessions() as session:
        [row] = (await session.execute(select(outbox))).all()
    assert row.event_type == "org.divert.referral.declined.v1"
    assert "subject" not in row.data and row.data["agency"] == "SPD"
    listed = (await client.get("/v1/referrals", params={"status": "declined"}, headers=officer)).json()["items"]
    assert [item["referral_id"] for item in listed] == [body["referral_id"]]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r["subject"].pop("given_name"), "body.subject.given_name"),
        (lambda r: r.update(pathway="jail"), "body.pathway"),
        (lambda r: r.update(referred_at="2026-11-02T14:05:00"), "body.referred_at"),
        (lambda r: r["screening"].pop("amenable"), "body.screening.amenable"),
        (lambda r: r.update(jurisdiction="atlantis"), "body.jurisdiction"),
        (lambda r: r.update(referred_at="2999-01-01T00:00:00Z"), "body.referred_at"),
        (lambda r: r.update(referred_at="2024-12-31T12:00:00-08:00"), "body.referred_at"),  # before any policy
        (lambda r: r.update(pathway="community"), "body.pathway"),  # King County takes no community referrals
        (lambda r: r.pop("offense"), "body.offense"),
        (
            lambda r: r.update(jurisdiction="santa-fe") or r["subject"].pop("date_of_birth"),
            "body.subject.date_of_birth",
        ),
        (lambda r: r["rms"].update(case_number=""), "body.rms.case_number"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, mutate, field: str, token: Token, referral_body: dict[str, Any]
) -> None:
    referral = copy.deepcopy(referral_body)
    mutate(referral)
    # An officer of the referral's jurisdiction, so the body is judged rather than refused (403).
    officer = token("officer", subject="officer-7781", agency="SPD", jurisdiction=referral.get("jurisdiction"))
    response = await client.post("/v1/referrals", json=referral, headers=officer)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_over_long_offense_text_and_too_many_convictions_are_422_naming_the_field(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    long_offense = copy.deepcopy(referral_body)
    long_offense["offense"]["category"] = "x" * 10_000
    long_offense["offense"]["statute"] = "RCW " + "9" * 1_000
    many = copy.deepcopy(referral_body)
    many["screening"]["disqualifying_convictions"] = ["robbery"] * 1_000
    long_item = copy.deepcopy(referral_body)
    long_item["screening"]["disqualifying_convictions"] = ["x" * 201]

    responses = [
        await client.post("/v1/referrals", json=body, headers=officer) for body in (long_offense, many, long_item)
    ]

    fields = [{error["field"] for error in response.json()["errors"]} for response in responses]
    assert [response.status_code for response in responses] == [422, 422, 422]
    assert {"body.offense.category", "body.offense.statute"} <= fields[0]
    assert fields[1] == {"body.screening.disqualifying_convictions"}
    assert fields[2] == {"body.screening.disqualifying_convictions.0"}


async def test_the_openapi_document_shows_the_referral_bounds(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    offense = schemas["Offense"]["properties"]
    convictions = schemas["Screening"]["properties"]["disqualifying_convictions"]
    request = schemas["ReferralRequest"]["properties"]
    assert offense["category"]["maxLength"] == 200
    assert offense["statute"]["anyOf"][0]["maxLength"] == 200
    assert offense["drug_type"]["anyOf"][0]["maxLength"] == 200
    assert offense["drug_quantity_grams"]["anyOf"][0]["maximum"] == 1_000_000
    assert convictions["maxItems"] == 50 and convictions["items"]["maxLength"] == 200
    assert request["contact_drivers"]["maxItems"] == 3
    assert request["jurisdiction"]["maxLength"] == 64


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient, officer: Headers) -> None:
    response = await client.post(
        "/v1/referrals", content=b'{"jurisdiction": ', headers={**officer, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["status"] == 422


async def test_unknown_referral_is_a_404_problem(client: httpx.AsyncClient, officer: Headers) -> None:
    response = await client.get("/v1/referrals/8a0f0e55-5b5e-4c39-9d43-2d7c1f3b6a10", headers=officer)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_readiness_reports_an_unreachable_broker(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["broker"].startswith("unavailable")


async def test_one_active_referral_per_rms_case_and_pathway(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    first = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    second = await client.post("/v1/referrals", json=referral_body, headers=officer)
    assert second.status_code == 409
    assert second.json()["existing_referral_id"] == first["referral_id"]
    # Once the first is withdrawn the RMS case may be referred again.
    withdrawn = await client.post(
        f"/v1/referrals/{first['referral_id']}/withdrawal", json={"reason": "wrong case"}, headers=officer
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert (await client.post("/v1/referrals", json=referral_body, headers=officer)).status_code == 201


async def test_withdrawal_is_published_and_refused_twice(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    created = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    url = f"/v1/referrals/{created['referral_id']}/withdrawal"
    assert (await client.post(url, json={"reason": "officer error"}, headers=officer)).status_code == 200
    again = await client.post(url, json={"reason": "officer error"}, headers=officer)
    assert again.status_code == 409 and again.json()["current_state"] == "withdrawn"
    assert (await client.post(url, json={}, headers=officer)).status_code == 422
    async with intake.sessions() as session:
        types = [row.event_type for row in await session.execute(select(outbox).order_by(outbox.c.id))]
    assert types == ["org.divert.referral.accepted.v1", "org.divert.referral.withdrawn.v1"]


async def test_extensions_move_the_due_time_later_only(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    created = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    url = f"/v1/referrals/{created['referral_id']}/extension"
    later = {"assessment_due_by": "2026-12-16T23:59:59-08:00", "reason": "in hospital"}
    response = await client.post(url, json=later, headers=manager)
    assert response.status_code == 200
    assert response.json()["assessment_due_by"] == "2026-12-16T23:59:59-08:00"
    earlier = await client.post(
        url, json={"assessment_due_by": "2026-12-10T23:59:59-08:00", "reason": "oops"}, headers=manager
    )
    assert earlier.status_code == 422 and earlier.json()["errors"][0]["field"] == "body.assessment_due_by"
    assert (await client.post(f"/v1/referrals/{uuid4()}/extension", json=later, headers=manager)).status_code == 404
    async with intake.sessions() as session:
        [row] = [r for r in await session.execute(select(outbox)) if r.event_type.endswith("deadline_extended.v1")]
    assert row.data["previous_due_by"].startswith("2026-12-02T23:59:59")


async def test_lists_filter_and_page_with_a_cursor(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    ids = []
    for day in range(1, 6):
        referral = copy.deepcopy(referral_body)
        referral["rms"]["case_number"] = f"case-{day}"
        referral["referred_at"] = f"2026-11-0{day}T10:00:00-08:00"
        ids.append((await client.post("/v1/referrals", json=referral, headers=officer)).json()["referral_id"])
    by_case = (
        await client.get("/v1/referrals", params={"agency": "SPD", "case_number": "case-3"}, headers=officer)
    ).json()
    assert [item["referral_id"] for item in by_case["items"]] == [ids[2]]

    seen, cursor = [], None
    while True:
        params = {"jurisdiction": "king-county", "limit": 2, "referred_from": "2026-11-02T00:00:00-08:00"}
        page = (
            await client.get(
                "/v1/referrals", params={**params, **({"cursor": cursor} if cursor else {})}, headers=officer
            )
        ).json()
        seen += [item["referral_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(ids[1:]))  # newest first, day 1 filtered out
    bad = await client.get("/v1/referrals", params={"cursor": "not-a-cursor"}, headers=officer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"
