"""Who may call intake, and what each caller sees (docs/access.md), over a real database.

Tokens, clients and the referral body come from conftest.py."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from divert_intake.bootstrap import Intake
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api
from divert_platform.audit import audit_log
from divert_platform.auth import ROLES, mint_token
from divert_platform.problems import PROBLEM_JSON
from divert_platform.schema import events

Headers = dict[str, str]
Token = Callable[..., Headers]
UNKNOWN = str(uuid4())

# Every protected route, a body it accepts, and the roles docs/access.md lets through.
PROTECTED: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/referrals", {}, {"officer"}),
    ("GET", "/v1/referrals", None, {"officer", "program_manager"}),
    ("GET", f"/v1/referrals/{UNKNOWN}", None, {"officer", "program_manager"}),
    ("POST", f"/v1/referrals/{UNKNOWN}/withdrawal", {"reason": "x"}, {"officer", "program_manager"}),
    (
        "POST",
        f"/v1/referrals/{UNKNOWN}/extension",
        {"assessment_due_by": "2026-12-16T23:59:59-08:00", "reason": "x"},
        {"program_manager"},
    ),
    ("GET", f"/v1/audit?referral_id={UNKNOWN}", None, {"program_manager"}),
    ("GET", "/v1/approvals", None, {"prosecutor", "program_manager"}),
    (
        "POST",
        f"/v1/referrals/{UNKNOWN}/approval",
        {"decision": "approve", "reason_code": "meets_criteria"},
        {"prosecutor", "program_manager"},
    ),
    ("GET", "/v1/callback-endpoints", None, {"agency_admin", "prosecutor"}),
    ("POST", "/v1/callback-endpoints", {"url": "https://rms.example.org/divert"}, {"agency_admin", "prosecutor"}),
    ("POST", f"/v1/callback-endpoints/{UNKNOWN}/disabling", None, {"agency_admin", "prosecutor"}),
    ("GET", f"/v1/callback-endpoints/{UNKNOWN}/messages", None, {"agency_admin", "prosecutor"}),
]


async def submit(client: httpx.AsyncClient, body: dict[str, Any], headers: Headers) -> str:
    response = await client.post("/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["referral_id"])


async def metadata_of(intake: Intake, referral_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with intake.sessions() as session:
        query = select(events).where(events.c.stream_id == f"referral-{referral_id}").order_by(events.c.position)
        return [(row.event_type, row.metadata) for row in await session.execute(query)]


async def audit_rows(intake: Intake) -> list[dict[str, Any]]:
    async with intake.sessions() as session:
        return [dict(row._mapping) for row in await session.execute(select(audit_log).order_by(audit_log.c.id))]


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body", "roles"), PROTECTED)
async def test_every_protected_route_wants_a_valid_bearer_token(
    client: httpx.AsyncClient, intake: Intake, method: str, path: str, body: Any, roles: set[str]
) -> None:
    role = sorted(roles)[0]
    expired = mint_token(intake.settings, subject="x", role=role, agency="SPD", lifetime=timedelta(minutes=-5))
    someone_else = IntakeSettings(jwt_secret="a-key-this-deployment-never-issued-tokens-with")
    forged = mint_token(someone_else, subject="x", role=role, agency="SPD")
    for headers in ({}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == PROBLEM_JSON


async def test_every_other_role_is_forbidden(client: httpx.AsyncClient, token: Token) -> None:
    for method, path, body, roles in PROTECTED:
        for role in set(ROLES) - roles:
            headers = token(role, agency="SPD", jurisdiction="king-county")
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.json()["title"] == "Forbidden"


async def test_public_routes_need_no_token(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/v1/jurisdictions", "/v1/jurisdictions/king-county"):
        assert (await client.get(path)).status_code == 200, path


async def test_the_openapi_document_names_the_scheme_and_the_problems(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for method, path in [("post", "/v1/referrals"), ("get", "/v1/referrals/{referral_id}"), ("get", "/v1/audit")]:
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"HTTPBearer": []}], path
        assert {"401", "403"} <= set(operation["responses"]), path
    assert "415" in schema["paths"]["/v1/referrals"]["post"]["responses"]
    assert "X-Divert-Purpose" in [
        p["name"] for p in schema["paths"]["/v1/referrals/{referral_id}"]["get"]["parameters"]
    ]


# --- officers: their own agency -----------------------------------------------------------------


async def test_an_officer_refers_only_for_its_own_agency_and_jurisdiction(
    client: httpx.AsyncClient, token: Token, referral_body: dict[str, Any]
) -> None:
    refusals = [  # the body is King County's, for SPD: what each refusal names
        (token("officer", agency="KCSO", jurisdiction="king-county"), "field", "body.rms.agency"),
        (token("officer", jurisdiction="king-county"), "claim", "agency"),  # no agency claim
        (token("officer", agency="SPD"), "claim", "jurisdiction"),  # no jurisdiction claim
        (token("officer", agency="SPD", jurisdiction="*"), "claim", "jurisdiction"),  # never all, for officers
        (token("officer", agency="SPD", jurisdiction="santa-fe"), "field", "body.jurisdiction"),
    ]
    for headers, member, named in refusals:
        response = await client.post("/v1/referrals", json=referral_body, headers=headers)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()[member] == named, response.text
    for missing in (token("officer", jurisdiction="king-county"), token("officer", agency="SPD")):
        assert (await client.get("/v1/referrals", headers=missing)).status_code == 403
    within = token("officer", agency="SPD", jurisdiction="king-county")
    assert (await client.post("/v1/referrals", json=referral_body, headers=within)).status_code == 201
    listed = await client.get("/v1/referrals", headers=within)
    assert [item["jurisdiction"] for item in listed.json()["items"]] == ["king-county"]


async def test_another_agencys_referral_is_absent_for_an_officer(
    client: httpx.AsyncClient, token: Token, officer: Headers, referral_body: dict[str, Any]
) -> None:
    ours = await submit(client, referral_body, officer)
    other = token("officer", subject="deputy-1", agency="KCSO", jurisdiction="king-county")
    referral_body["rms"].update(agency="KCSO", case_number="KC-1")
    theirs = await submit(client, referral_body, other)

    missing = await client.get(f"/v1/referrals/{ours}", headers=other)
    assert (missing.status_code, missing.json()["detail"]) == (404, f"no referral {ours}")
    withdrawal = await client.post(f"/v1/referrals/{ours}/withdrawal", json={"reason": "x"}, headers=other)
    assert withdrawal.status_code == 404

    async def listed(headers: Headers, **params: str) -> list[str]:
        response = await client.get("/v1/referrals", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["referral_id"] for item in response.json()["items"]]

    assert await listed(other) == [theirs]
    assert await listed(other, agency="SPD") == []  # asking for another agency finds nothing
    assert await listed(officer) == [ours]
    assert (await client.get(f"/v1/referrals/{ours}", headers=officer)).json()["status"] == "accepted"


async def test_idempotency_keys_are_each_agencys_own(
    client: httpx.AsyncClient, token: Token, officer: Headers, referral_body: dict[str, Any]
) -> None:
    first = await client.post("/v1/referrals", json=referral_body, headers={**officer, "Idempotency-Key": "1"})
    referral_body["rms"].update(agency="KCSO", case_number="KC-1")
    deputy = {**token("officer", agency="KCSO", jurisdiction="king-county"), "Idempotency-Key": "1"}
    second = await client.post("/v1/referrals", json=referral_body, headers=deputy)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["referral_id"] != second.json()["referral_id"]


# --- program managers: their own jurisdiction ---------------------------------------------------


async def test_a_program_manager_sees_and_changes_only_its_jurisdiction(
    client: httpx.AsyncClient, token: Token, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    referral_id = await submit(client, referral_body, officer)
    elsewhere = token("program_manager", subject="pm-santa-fe", jurisdiction="santa-fe")
    later = {"assessment_due_by": "2026-12-16T23:59:59-08:00", "reason": "in hospital"}

    assert (await client.get(f"/v1/referrals/{referral_id}", headers=elsewhere)).status_code == 404
    assert (await client.get("/v1/referrals", headers=elsewhere)).json()["items"] == []
    assert (await client.get("/v1/referrals", params={"jurisdiction": "king-county"}, headers=elsewhere)).json()[
        "items"
    ] == []
    extension = f"/v1/referrals/{referral_id}/extension"
    assert (await client.post(extension, json=later, headers=elsewhere)).status_code == 404
    assert (
        await client.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "x"}, headers=elsewhere)
    ).status_code == 404
    assert (await client.get("/v1/referrals", headers=token("program_manager"))).status_code == 403  # no claim

    assert [i["referral_id"] for i in (await client.get("/v1/referrals", headers=manager)).json()["items"]] == [
        referral_id
    ]
    assert (await client.post(extension, json=later, headers=manager)).status_code == 200
    withdrawn = await client.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "x"}, headers=manager)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


async def test_every_change_is_attributed_to_the_caller_not_the_body(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    referral_id = await submit(client, referral_body, officer)
    later = {"assessment_due_by": "2026-12-16T23:59:59-08:00", "reason": "in hospital"}
    await client.post(f"/v1/referrals/{referral_id}/extension", json=later, headers=manager)
    await client.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "error"}, headers=officer)

    the_officer = {"actor": "officer-7781", "role": "officer", "agency": "SPD"}
    the_manager = {"actor": "pm-king", "role": "program_manager", "agency": None}
    assert await metadata_of(intake, referral_id) == [
        ("ReferralAccepted", the_officer),
        ("DeadlineExtended", the_manager),
        ("ReferralWithdrawn", the_officer),
    ]


# --- the audit trail ----------------------------------------------------------------------------


async def test_reads_by_people_are_audited_with_their_purpose(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    first = await submit(client, referral_body, officer)
    referral_body["rms"]["case_number"] = "2026-000002"
    second = await submit(client, referral_body, officer)
    assert await audit_rows(intake) == []  # submitting is a write, attributed in the event store

    await client.get(f"/v1/referrals/{first}", headers={**officer, "X-Divert-Purpose": "  court date follow-up "})
    await client.get("/v1/referrals", headers=manager)
    await client.get("/v1/referrals", params={"status": "lapsed"}, headers=manager)  # nothing read, nothing recorded
    await client.get(f"/v1/referrals/{uuid4()}", headers=officer)  # nothing read, nothing recorded

    rows = [
        (row["actor"], row["role"], row["agency"], row["action"], row["resource"], row["referral_id"], row["purpose"])
        for row in await audit_rows(intake)
    ]
    assert rows[0] == ("officer-7781", "officer", "SPD", "read", "referral status", first, "court date follow-up")
    assert sorted(rows[1:]) == sorted(  # one record per referral listed
        ("pm-king", "program_manager", None, "read", "referral list", referral_id, None)
        for referral_id in (first, second)
    )


async def test_a_program_manager_reads_the_trail_of_reads_and_writes(
    client: httpx.AsyncClient, token: Token, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    referral_id = await submit(client, referral_body, officer)
    await client.get(f"/v1/referrals/{referral_id}", headers={**officer, "X-Divert-Purpose": "status check"})
    await client.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "error"}, headers=officer)

    response = await client.get("/v1/audit", params={"referral_id": referral_id}, headers=manager)

    assert response.status_code == 200, response.text
    entries = [
        (e["action"], e["what"], e["actor"], e["role"], e["agency"], e["purpose"]) for e in response.json()["entries"]
    ]
    assert entries == [
        ("write", "ReferralAccepted", "officer-7781", "officer", "SPD", None),
        ("read", "referral status", "officer-7781", "officer", "SPD", "status check"),
        ("write", "ReferralWithdrawn", "officer-7781", "officer", "SPD", None),
    ]
    elsewhere = token("program_manager", jurisdiction="santa-fe")
    assert (await client.get("/v1/audit", params={"referral_id": referral_id}, headers=elsewhere)).status_code == 404
    unscoped = token("program_manager")
    assert (await client.get("/v1/audit", params={"referral_id": referral_id}, headers=unscoped)).status_code == 403
    assert (await client.get("/v1/audit", params={"referral_id": str(uuid4())}, headers=manager)).status_code == 404


# --- hardening ----------------------------------------------------------------------------------


async def test_a_client_over_its_rate_limit_is_told_when_to_retry(intake: Intake, token: Token) -> None:
    intake.settings.rate_limit_per_minute = 3
    transport = httpx.ASGITransport(app=build_api(intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        busy = token("officer", subject="busy", agency="SPD", jurisdiction="king-county")
        calm = token("officer", subject="calm", agency="SPD", jurisdiction="king-county")
        # Changes are limited per verified caller; {} reaches the handler and is a 422 until then.
        statuses = [(await client.post("/v1/referrals", json={}, headers=busy)).status_code for _ in range(4)]
        limited = await client.post("/v1/referrals", json={}, headers=busy)
        assert statuses == [422, 422, 422, 429]
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["content-type"] == PROBLEM_JSON
        assert (await client.post("/v1/referrals", json={}, headers=calm)).status_code == 422  # per caller
        assert (await client.get("/v1/referrals", headers=busy)).status_code == 200  # reads are never limited
        assert (await client.get("/healthz")).status_code == 200


async def test_the_default_limit_is_600_a_minute(intake: Intake) -> None:
    assert type(intake.settings)().rate_limit_per_minute == 600


async def test_a_body_that_is_not_json_is_a_415(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    response = await client.post(
        "/v1/referrals", content=str(referral_body).encode(), headers={**officer, "content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_security_headers_are_on_answers_and_problems(client: httpx.AsyncClient, officer: Headers) -> None:
    for response in (
        await client.get("/v1/referrals", headers=officer),
        await client.get("/v1/referrals"),
        await client.get("/v1/jurisdictions"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
