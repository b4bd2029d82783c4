"""Who may call warrants, and which requests each caller sees (docs/access.md).

Only intake's deadline worker (`deadline_worker`) raises requests: the generic `service` role,
which directory importers hold too, is refused. Warrants keeps no read audit: its data is referral
ids, jurisdictions and dates, no personal data."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from divert_platform.auth import ROLES, mint_token
from divert_platform.problems import PROBLEM_JSON
from divert_platform.schema import events, idempotency_keys, outbox
from divert_warrants.adapters.tables import warrant_requests
from divert_warrants.bootstrap import Warrants
from divert_warrants.config import WarrantsSettings

Headers = dict[str, str]
Token = Callable[..., Headers]
UNKNOWN = str(uuid4())

PROTECTED: list[tuple[str, str, set[str]]] = [
    ("POST", "/v1/warrant-requests", {"deadline_worker"}),
    ("GET", "/v1/warrant-requests", {"prosecutor", "court", "program_manager"}),
    ("GET", f"/v1/warrant-requests/{UNKNOWN}", {"prosecutor", "court", "program_manager"}),
    ("POST", f"/v1/warrant-requests/{UNKNOWN}/acknowledgement", {"prosecutor", "court"}),
]


async def raise_requests(client: httpx.AsyncClient, worker: Headers, make_lapsed, *jurisdictions: str) -> list[str]:
    ids = []
    for jurisdiction in jurisdictions:
        response = await client.post(
            "/v1/warrant-requests", json=await make_lapsed(jurisdiction=jurisdiction), headers=worker
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["warrant_request_id"])
    return ids


@pytest.mark.parametrize(("method", "path", "roles"), PROTECTED)
async def test_every_protected_route_wants_a_valid_bearer_token(
    client: httpx.AsyncClient, warrants: Warrants, make_lapse, method: str, path: str, roles: set[str]
) -> None:
    role = sorted(roles)[0]
    expired = mint_token(warrants.settings, subject="x", role=role, lifetime=timedelta(minutes=-5))
    someone_else = WarrantsSettings(jwt_secret="a-key-this-deployment-never-issued-tokens-with")
    forged = mint_token(someone_else, subject="x", role=role)
    body: dict[str, Any] | None = make_lapse() if method == "POST" else None
    for headers in ({}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {forged}"}):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == PROBLEM_JSON


async def test_every_other_role_is_forbidden(client: httpx.AsyncClient, token: Token, make_lapse) -> None:
    for method, path, roles in PROTECTED:
        for role in set(ROLES) - roles:
            headers = token(role, agency="SPD", jurisdiction="king-county")
            body = make_lapse() if path == "/v1/warrant-requests" and method == "POST" else None
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, role, response.text)


async def test_a_generic_service_token_may_not_raise_a_request_even_for_a_recorded_lapse(
    client: httpx.AsyncClient, token: Token, make_lapsed, rows
) -> None:
    body = await make_lapsed()  # a lapse intake did record: only the caller is wrong
    for subject in ("divert-intake", "divert-directory-importer"):
        headers = {**token("service", subject=subject), "Idempotency-Key": body["referral_id"]}

        refused = await client.post("/v1/warrant-requests", json=body, headers=headers)

        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert refused.json()["detail"] == "the service role may not use this route"
    for table in (warrant_requests, outbox, events, idempotency_keys):
        assert await rows(table) == [], table.name


async def test_a_program_manager_sees_only_its_jurisdictions_requests(
    client: httpx.AsyncClient, token: Token, deadline_worker: Headers, make_lapsed
) -> None:
    king, demo = await raise_requests(client, deadline_worker, make_lapsed, "king-county", "demo")
    manager = token("program_manager", jurisdiction="king-county")

    async def listed(**params: str) -> list[str]:
        response = await client.get("/v1/warrant-requests", params=params, headers=manager)
        assert response.status_code == 200, response.text
        return [item["warrant_request_id"] for item in response.json()["items"]]

    assert await listed() == [king]
    assert await listed(jurisdiction="demo") == []  # another jurisdiction finds nothing
    assert await listed(jurisdiction="king-county") == [king]
    assert (await client.get(f"/v1/warrant-requests/{king}", headers=manager)).status_code == 200
    hidden = await client.get(f"/v1/warrant-requests/{demo}", headers=manager)
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"no warrant request {demo}")
    unscoped = token("program_manager")
    assert (await client.get("/v1/warrant-requests", headers=unscoped)).status_code == 403
    assert (await client.get(f"/v1/warrant-requests/{king}", headers=unscoped)).status_code == 403


async def listed_by(client: httpx.AsyncClient, headers: Headers, **params: str) -> list[str]:
    response = await client.get("/v1/warrant-requests", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["warrant_request_id"] for item in response.json()["items"]]


@pytest.mark.parametrize("role", ["prosecutor", "court"])
async def test_a_prosecutor_or_court_without_a_jurisdiction_claim_is_refused_not_widened(
    client: httpx.AsyncClient, token: Token, deadline_worker: Headers, make_lapsed, rows, role: str
) -> None:
    (king,) = await raise_requests(client, deadline_worker, make_lapsed, "king-county")
    unscoped = token(role, jurisdiction=None)
    for method, path in [
        ("GET", "/v1/warrant-requests"),
        ("GET", f"/v1/warrant-requests/{king}"),
        ("POST", f"/v1/warrant-requests/{king}/acknowledgement"),
    ]:
        response = await client.request(method, path, headers=unscoped)
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["claim"] == "jurisdiction", response.text
    assert [row["acknowledged_by"] for row in await rows(warrant_requests)] == [None]  # nobody acknowledged it


@pytest.mark.parametrize("role", ["prosecutor", "court"])
async def test_a_prosecutor_or_court_sees_its_tokens_jurisdiction_or_all_with_a_star(
    client: httpx.AsyncClient, token: Token, deadline_worker: Headers, make_lapsed, role: str
) -> None:
    king, demo = await raise_requests(client, deadline_worker, make_lapsed, "king-county", "demo")

    statewide = token(role, jurisdiction="*")
    assert await listed_by(client, statewide) == [king, demo]
    assert await listed_by(client, statewide, jurisdiction="demo") == [demo]
    assert (await client.get(f"/v1/warrant-requests/{king}", headers=statewide)).status_code == 200

    scoped = token(role, jurisdiction="king-county")
    assert await listed_by(client, scoped) == [king]
    assert await listed_by(client, scoped, jurisdiction="demo") == []
    assert (await client.get(f"/v1/warrant-requests/{demo}", headers=scoped)).status_code == 404
    assert (await client.post(f"/v1/warrant-requests/{demo}/acknowledgement", headers=scoped)).status_code == 404
    assert (await client.get(f"/v1/warrant-requests/{king}", headers=scoped)).status_code == 200
    acknowledged = await client.post(f"/v1/warrant-requests/{king}/acknowledgement", headers=scoped)
    assert (acknowledged.status_code, acknowledged.json()["acknowledged_by"]) == (200, role)
    assert (await client.post(f"/v1/warrant-requests/{demo}/acknowledgement", headers=statewide)).status_code == 200


async def test_only_prosecutors_and_courts_may_hold_every_jurisdiction(client: httpx.AsyncClient, token: Token) -> None:
    manager = token("program_manager", jurisdiction="*")
    refused = await client.get("/v1/warrant-requests", headers=manager)
    assert (refused.status_code, refused.json()["claim"]) == (403, "jurisdiction")


async def test_the_default_limit_is_600_changes_a_minute(warrants: Warrants) -> None:
    assert type(warrants.settings)().rate_limit_per_minute == 600


async def test_a_body_that_is_not_json_is_a_415(client: httpx.AsyncClient, deadline_worker: Headers) -> None:
    response = await client.post(
        "/v1/warrant-requests", content=b"referral_id=1", headers={**deadline_worker, "content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_security_headers_are_on_answers_and_problems(client: httpx.AsyncClient, prosecutor: Headers) -> None:
    for response in (
        await client.get("/v1/warrant-requests", headers=prosecutor),
        await client.get("/v1/warrant-requests"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
