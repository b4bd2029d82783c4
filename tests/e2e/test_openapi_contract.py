"""Every status a route answers is one its OpenAPI operation documents, as a problem+json body.

For each route of each service (built as its process builds it, on a migrated SQLite database)
the test sends what provokes the errors: no token, a junk token, a token of every role, unknown
ids, ids that are not ids, junk query values, a body that is not JSON, not UTF-8, the wrong type,
too large, of the wrong shape, and one change too many for the rate limit. Each answer's status
must be documented for that operation; an error's documented content and the answer itself must
be `application/problem+json`; and no answer is a 5xx but a documented readiness 503.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from divert_assessment.bootstrap import MIGRATIONS as ASSESSMENT_MIGRATIONS
from divert_assessment.bootstrap import bootstrap as assessment
from divert_assessment.config import AssessmentSettings
from divert_assessment.entrypoints.api import build_api as assessment_api
from divert_directory.bootstrap import MIGRATIONS as DIRECTORY_MIGRATIONS
from divert_directory.bootstrap import bootstrap as directory
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api as directory_api
from divert_intake.bootstrap import MIGRATIONS as INTAKE_MIGRATIONS
from divert_intake.bootstrap import bootstrap as intake
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api as intake_api
from divert_platform.auth import ROLES, mint_token
from divert_platform.migrations import upgrade_to_head
from divert_platform.problems import PROBLEM_JSON
from divert_platform.settings import ServiceSettings
from divert_warrants.bootstrap import MIGRATIONS as WARRANTS_MIGRATIONS
from divert_warrants.bootstrap import bootstrap as warrants
from divert_warrants.config import WarrantsSettings
from divert_warrants.entrypoints.api import build_api as warrants_api

_NOWHERE: dict[str, Any] = {"kafka_bootstrap": "127.0.0.1:1", "environment": "development"}
_CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
_MAX_BYTES = 10_000  # a small body limit, so an oversized body stays small


@dataclass(frozen=True)
class Service:
    migrations: Path
    build: Callable[[str, int], FastAPI]
    """The app on a database URL, with a rate limit of that many changes a minute."""


SERVICES = {
    "intake": Service(
        INTAKE_MIGRATIONS,
        lambda url, rate: intake_api(
            intake(
                IntakeSettings(
                    database_url=url,
                    temporal_address="127.0.0.1:1",
                    rate_limit_per_minute=rate,
                    max_request_bytes=_MAX_BYTES,
                    **_NOWHERE,
                )
            )
        ),
    ),
    "assessment": Service(
        ASSESSMENT_MIGRATIONS,
        lambda url, rate: assessment_api(
            assessment(
                AssessmentSettings(
                    database_url=url, rate_limit_per_minute=rate, max_request_bytes=_MAX_BYTES, **_NOWHERE
                )
            )
        ),
    ),
    "services-directory": Service(
        DIRECTORY_MIGRATIONS,
        lambda url, rate: directory_api(
            directory(
                DirectorySettings(
                    database_url=url, rate_limit_per_minute=rate, max_request_bytes=_MAX_BYTES, **_NOWHERE
                )
            )
        ),
    ),
    "warrants": Service(
        WARRANTS_MIGRATIONS,
        lambda url, rate: warrants_api(
            warrants(
                WarrantsSettings(database_url=url, rate_limit_per_minute=rate, max_request_bytes=_MAX_BYTES, **_NOWHERE)
            )
        ),
    ),
}


@dataclass
class Probe:
    """One request and why it was sent."""

    why: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Findings:
    """Every answer that breaks the contract, named by operation and probe."""

    problems: list[str] = field(default_factory=list)
    answered: set[int] = field(default_factory=set)

    def check(self, operation: dict[str, Any], label: str, probe: Probe, response: httpx.Response) -> None:
        status = str(response.status_code)
        self.answered.add(response.status_code)
        where = f"{label} ({probe.why}) answered {status}"
        documented = operation["responses"].get(status)
        if documented is None:
            self.problems.append(f"{where}: not documented (documents {sorted(operation['responses'])})")
            return
        if response.status_code >= 400 and not (probe.path == "/readyz" and status == "503"):  # a report, not a problem
            if PROBLEM_JSON not in documented.get("content", {}):
                self.problems.append(f"{where}: documented without {PROBLEM_JSON}")
            if response.headers.get("content-type") != PROBLEM_JSON:
                self.problems.append(f"{where}: answered as {response.headers.get('content-type')}")
        if response.status_code >= 500 and probe.path != "/readyz":
            self.problems.append(f"{where}: a server error: {response.text[:300]}")


def _tokens(settings: ServiceSettings) -> dict[str, str]:
    """A token of every role, each scoped to a jurisdiction and agency this test made up."""
    return {
        role: mint_token(settings, subject=f"{role}-contract", role=role, agency="contract-agency", jurisdiction="x")
        for role in ROLES
    }


def _concrete(path: str, value: Callable[[str], str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda match: value(match.group(1)), path)


def _probes(method: str, path: str, operation: dict[str, Any], tokens: dict[str, str]) -> Iterator[Probe]:
    """The requests that provoke each error an operation could answer."""
    unknown = _concrete(path, lambda _: str(uuid4()))
    secured = bool(operation.get("security"))
    json_body = {"Content-Type": "application/json"}
    yield Probe("no token", unknown)
    if secured:
        yield Probe("junk token", unknown, {"Authorization": "Bearer not-a-token"})
    for role, token in tokens.items():
        auth = {"Authorization": f"Bearer {token}"}
        yield Probe(f"{role} token, unknown ids", unknown, auth, b"{}" if method in _CHANGES - {"DELETE"} else None)
        if "{" in path:
            yield Probe(f"{role} token, ids that are not ids", _concrete(path, lambda _: "not-an-id"), auth)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                yield Probe(
                    f"{role} token, junk {parameter['name']}", unknown, auth, params={parameter["name"]: "¿" * 300}
                )
                yield Probe(
                    f"{role} token, negative {parameter['name']}", unknown, auth, params={parameter["name"]: "-1"}
                )
            if parameter["in"] == "header":
                yield Probe(f"{role} token, long {parameter['name']}", unknown, {**auth, parameter["name"]: "k" * 500})
        if method in _CHANGES - {"DELETE"}:
            yield Probe(f"{role} token, body not JSON", unknown, {**auth, **json_body}, b"{not json")
            yield Probe(f"{role} token, body not UTF-8", unknown, {**auth, **json_body}, b'{"a": "\xff\xfe"}')
            yield Probe(f"{role} token, body a list", unknown, {**auth, **json_body}, b"[1, 2, 3]")
            yield Probe(f"{role} token, text body", unknown, {**auth, "Content-Type": "text/plain"}, b"hello")
        too_large = b"{" + b" " * _MAX_BYTES + b"}"
        yield Probe(f"{role} token, body too large", unknown, {**auth, **json_body}, too_large)


async def _send(client: httpx.AsyncClient, method: str, probe: Probe) -> httpx.Response:
    return await client.request(method, probe.path, headers=probe.headers, content=probe.content, params=probe.params)


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("openapi-contract")
    urls = {}
    for name, service in SERVICES.items():
        urls[name] = f"sqlite+aiosqlite:///{data / name}.db"
        upgrade_to_head(urls[name], service.migrations)
    return urls


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_answered_status_is_documented_as_a_problem(name: str, databases: dict[str, str]) -> None:
    app = SERVICES[name].build(databases[name], 100_000)
    document = app.openapi()
    tokens = _tokens(app.state.parts.settings)
    findings = Findings()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://contract") as client:
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for probe in _probes(method.upper(), path, operation, tokens):
                    response = await _send(client, method.upper(), probe)
                    findings.check(operation, f"{method.upper()} {path}", probe, response)
    await app.state.parts.engine.dispose()
    assert findings.problems == [], "\n".join(findings.problems)
    # the probes reach every refusal they are made for (else this test would prove little)
    assert {400, 401, 403, 404, 413, 415, 422} <= findings.answered, sorted(findings.answered)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_one_change_too_many_is_a_documented_429(name: str, databases: dict[str, str]) -> None:
    app = SERVICES[name].build(databases[name], 1)
    document = app.openapi()
    token = _tokens(app.state.parts.settings)["program_manager"]
    findings = Findings()
    changes = [
        (path, method) for path, ops in document["paths"].items() for method in ops if method.upper() in _CHANGES
    ]
    assert changes, f"{name} has no route that changes something"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://contract") as client:
        for path, method in changes:
            probe = Probe("the caller's second change this minute", _concrete(path, lambda _: str(uuid4())))
            probe.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            probe.content = b"{}"
            await _send(client, method.upper(), probe)  # spends the caller's one change (or is already a 429)
            response = await _send(client, method.upper(), probe)
            assert response.status_code == 429, f"{method.upper()} {path}: {response.status_code}"
            assert int(response.headers["Retry-After"]) >= 1
            assert response.headers["RateLimit-Remaining"] == "0"
            operation = document["paths"][path][method]
            findings.check(operation, f"{method.upper()} {path}", probe, response)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    await app.state.parts.engine.dispose()
    assert findings.problems == [], "\n".join(findings.problems)
