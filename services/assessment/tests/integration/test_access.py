"""Who may call assessment (docs/access.md): every route against the role matrix, tokens that are
missing or forged, the golden rule, and the scopes of case managers and program managers."""

import re
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import jwt
import pytest

from divert_assessment.entrypoints.callers import ROUTE_ROLES
from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, ROLES, mint_token

MATRIX = Path(__file__).resolve().parents[4] / "docs" / "access.md"
_ROW = re.compile(r"^\|\s*assessment\s*\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*(\S+)\s*\|\s*([^|]+?)\s*\|$")
PROBLEM = "application/problem+json"


def matrix() -> dict[tuple[str, str], frozenset[str]]:
    """(method, path) → the roles docs/access.md lists for assessment, or {"public"}."""
    rows = {}
    for line in MATRIX.read_text().splitlines():
        if match := _ROW.match(line.strip()):
            method, path, roles = match.groups()
            rows[(method, path)] = frozenset(role.strip() for role in roles.split(","))
    return rows


async def call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid4()), path)
    body = {"json": {}} if method == "POST" else {}
    return await client.request(method, concrete, headers=headers, **body)


async def test_every_route_is_in_the_matrix_and_every_row_is_a_route(anonymous) -> None:
    spec = (await anonymous.get("/openapi.json")).json()
    routes = {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}

    assert routes == matrix().keys()


async def test_each_route_admits_exactly_its_roles(anonymous, bearer) -> None:
    forged = {"Authorization": "Bearer " + jwt.encode({"sub": "x", "role": "case_manager"}, "not-the-key" * 4)}
    for (method, path), allowed in matrix().items():
        if "public" in allowed:
            assert (await call(anonymous, method, path, {})).status_code not in (401, 403), path
            continue
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, forged):
            response = await call(anonymous, method, path, headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["www-authenticate"] == "Bearer"
        for role in ROLES:
            status = (await call(anonymous, method, path, bearer(role))).status_code
            if role in allowed:
                assert status not in (401, 403), (method, path, role)
            else:
                assert status == 403, (method, path, role)


def test_the_golden_rule_no_assessment_route_admits_officers_prosecutors_or_courts() -> None:
    assert not ROUTE_ROLES & PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT
    assert not {role for roles in matrix().values() for role in roles} & PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT


@pytest.mark.parametrize("role", sorted(PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT))
async def test_enforcement_roles_get_no_case_content_even_of_a_real_case(anonymous, open_case, bearer, role) -> None:
    accepted = await open_case()
    # the most generous token they could hold: the owning agency and the jurisdiction
    headers = bearer(role, agency="reach-king-county", jurisdiction="king-county")

    for response in (
        await anonymous.get(f"/v1/cases/{accepted.referral_id}", headers=headers),
        await anonymous.get("/v1/cases", headers=headers),
        await anonymous.post(
            f"/v1/cases/{accepted.referral_id}/disclosures",
            json={"party": role, "scope": "full_case"},
            headers=headers,
        ),
    ):
        assert response.status_code == 403
        assert "Ana" not in response.text and "555-0100" not in response.text


async def test_an_expired_token_or_one_for_another_audience_is_401(anonymous, assessment) -> None:
    settings = assessment.settings
    past_the_leeway = timedelta(minutes=-5)
    expired = mint_token(
        settings, subject="cm-7", role="case_manager", agency="reach-king-county", lifetime=past_the_leeway
    )
    elsewhere = mint_token(
        settings.model_copy(update={"jwt_audience": "someone-else"}),
        subject="cm-7",
        role="case_manager",
        agency="reach-king-county",
    )

    for token in (expired, elsewhere):
        response = await anonymous.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_a_case_manager_token_without_an_agency_is_403(client, open_case, bearer) -> None:
    accepted = await open_case()
    unscoped = bearer(agency=None)

    for response in (
        await client.get("/v1/cases", headers=unscoped),
        await client.get(f"/v1/cases/{accepted.referral_id}", headers=unscoped),
        await client.post(f"/v1/cases/{accepted.referral_id}/reopening", json={}, headers=unscoped),
    ):
        assert response.status_code == 403 and "Ana" not in response.text


async def test_the_routes_document_401_and_403(anonymous) -> None:
    spec = (await anonymous.get("/openapi.json")).json()
    for (method, path), allowed in matrix().items():
        if "public" not in allowed:
            responses = spec["paths"][path][method.lower()]["responses"]
            assert {"401", "403"} <= responses.keys(), (method, path)


async def test_health_needs_no_token(anonymous) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 503  # no broker here, but no 401
