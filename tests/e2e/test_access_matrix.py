"""Every route of every service, checked against the role-by-route matrix in docs/access.md:
no route left unclassified, 401 without a token, 403 for every role the matrix does not list,
and never 401/403 for a role it does list."""

import re
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from divert_local.stack import Stack
from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, ROLES, mint_token
from divert_platform.settings import ServiceSettings

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "access.md"
STACK_NAMES = {
    "intake": "intake",
    "assessment": "assessment",
    "services-directory": "directory",
    "warrants": "warrants",
}
_ROW = re.compile(r"^\|\s*([\w-]+)\s*\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*(\S+)\s*\|\s*([^|]+?)\s*\|$")

Route = tuple[str, str, str]


def load_matrix() -> dict[Route, frozenset[str]]:
    """(service, method, path) → allowed roles, or {"public"}."""
    rows = {}
    for line in MATRIX.read_text().splitlines():
        if match := _ROW.match(line.strip()):
            service, method, path, roles = match.groups()
            if service in STACK_NAMES:
                rows[(service, method, path)] = frozenset(role.strip() for role in roles.split(","))
    return rows


def openapi_routes(stack: Stack) -> set[Route]:
    routes = set()
    for service, name in STACK_NAMES.items():
        spec = httpx.get(f"{stack.url(name)}/openapi.json", timeout=10).json()
        routes |= {(service, method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    return routes


def tokens() -> dict[str, str]:
    settings = ServiceSettings()
    return {
        role: mint_token(settings, subject=f"{role}-matrix", role=role, agency="matrix-agency", jurisdiction="demo")
        for role in ROLES
    }


def call(stack: Stack, route: Route, token: str | None) -> int:
    service, method, path = route
    concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid4()), path)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return httpx.request(
        method, f"{stack.url(STACK_NAMES[service])}{concrete}", headers=headers, timeout=10, **kwargs
    ).status_code


def test_every_route_is_in_the_matrix_and_every_row_is_a_route(stack: Stack) -> None:
    matrix, routes = load_matrix(), openapi_routes(stack)
    assert sorted(routes - matrix.keys()) == [], "routes nobody classified in docs/access.md"
    assert sorted(matrix.keys() - routes) == [], "rows in docs/access.md for routes that do not exist"
    unknown = {role for roles in matrix.values() for role in roles} - {*ROLES, "public"}
    assert not unknown, f"unknown roles in docs/access.md: {unknown}"


@pytest.mark.parametrize("route", sorted(load_matrix()), ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
def test_each_route_admits_exactly_its_roles(stack: Stack, route: Route) -> None:
    allowed = load_matrix()[route]
    if "public" in allowed:
        assert call(stack, route, None) not in (401, 403)
        return
    assert call(stack, route, None) == 401
    assert call(stack, route, "not-a-token") == 401
    role_tokens = tokens()
    for role in ROLES:
        status = call(stack, route, role_tokens[role])
        if role in allowed:
            assert status not in (401, 403), f"{role} refused ({status})"
        else:
            assert status == 403, f"{role} got {status}"


def test_the_golden_rule_no_enforcement_role_reaches_case_content() -> None:
    enforcement = {"officer", "prosecutor", "court"} | PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT
    case_routes = [route for route in load_matrix() if route[0] == "assessment" and route[2].startswith("/v1/cases")]
    assert case_routes and all(not (load_matrix()[route] & enforcement) for route in case_routes)
