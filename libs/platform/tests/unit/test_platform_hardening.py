"""HTTP hardening: security headers everywhere, JSON bodies only, a per-client rate limit,
and authentication answered before anything else."""

import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from divert_platform.app import create_app
from divert_platform.auth import Principal, allow, mint_token
from divert_platform.settings import ServiceSettings


def _app(per_minute: int = 0, max_request_bytes: int = 1_000_000, **settings_values: Any):
    settings = ServiceSettings(
        rate_limit_per_minute=per_minute,
        max_request_bytes=max_request_bytes,
        kafka_bootstrap="127.0.0.1:1",
        **settings_values,
    )
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    parts = SimpleNamespace(settings=settings, engine=engine, sessions=async_sessionmaker(engine))
    app = create_app(title="t", description="t", parts=parts)

    @app.post("/things")
    async def create(body: dict[str, str], caller: Annotated[Principal, Depends(allow("officer"))]) -> dict[str, str]:
        return {"by": caller.subject}

    return app, settings


async def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_security_headers_on_success_and_on_problems() -> None:
    app, settings = _app()
    token = mint_token(settings, subject="o", role="officer", agency="SPD", jurisdiction="king-county")
    async with await _client(app) as http:
        ok = await http.post("/things", json={}, headers={"Authorization": f"Bearer {token}"})
        denied = await http.post("/things", json={})
    assert ok.status_code == 200 and ok.json() == {"by": "o"}
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    for response in (ok, denied):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_the_wrong_role_is_403_before_the_body_is_validated() -> None:
    app, settings = _app()
    token = mint_token(settings, subject="p", role="prosecutor")
    async with await _client(app) as http:
        response = await http.post("/things", json={"not": 1}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"


async def test_only_json_bodies_are_accepted() -> None:
    app, settings = _app()
    token = mint_token(settings, subject="o", role="officer", agency="SPD", jurisdiction="king-county")
    async with await _client(app) as http:
        response = await http.post(
            "/things", content=b"a=b", headers={"Authorization": f"Bearer {token}", "content-type": "text/plain"}
        )
    assert response.status_code == 415


async def test_oversized_bodies_are_refused_before_anything_reads_them() -> None:
    app, settings = _app(max_request_bytes=100)
    token = mint_token(settings, subject="o", role="officer", agency="SPD", jurisdiction="king-county")
    async with await _client(app) as http:
        response = await http.post(
            "/things",
            content=b'{"name": "' + b"x" * 200 + b'"}',
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"


def _chunked(total: int, chunk: int = 1000) -> AsyncIterator[bytes]:
    """`total` bytes of a JSON object as an async stream: httpx sends it with no Content-Length."""

    async def chunks() -> AsyncIterator[bytes]:
        body = b'{"name": "' + b"x" * (total - 12) + b'"}'
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    return chunks()


def _with_raw_route(app) -> list[int]:
    """A route that reads the body itself (no FastAPI body parsing); returns what it saw, in bytes."""
    seen: list[int] = []

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"bytes": seen[-1]}

    return seen


async def test_a_chunked_body_is_counted_as_it_arrives_and_refused_past_the_limit() -> None:
    app, settings = _app(max_request_bytes=1000)
    seen = _with_raw_route(app)
    token = mint_token(settings, subject="o", role="officer", agency="SPD", jurisdiction="king-county")
    headers = {"Authorization": f"Bearer {token}"}
    headers["content-type"] = "application/json"
    async with await _client(app) as http:
        parsed = await http.post("/things", content=_chunked(5_000_000), headers=headers)
        raw = await http.post("/raw", content=_chunked(5_000_000), headers=headers)
        small = await http.post("/raw", content=_chunked(900), headers=headers)
    for response in (parsed, raw):
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "the body exceeds 1000 bytes"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert small.status_code == 200 and small.json() == {"bytes": 900}
    assert seen == [900]  # the handler never saw the oversized body


async def test_a_chunked_body_at_the_limit_passes() -> None:
    app, settings = _app(max_request_bytes=1000)
    token = mint_token(settings, subject="o", role="officer", agency="SPD", jurisdiction="king-county")
    async with await _client(app) as http:
        response = await http.post(
            "/things",
            content=_chunked(1000, chunk=7),
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        )
    assert response.status_code == 200 and response.json() == {"by": "o"}


async def test_the_api_documents_are_off_outside_development_unless_switched_on() -> None:
    production = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://db/x",
        "jwks_url": "https://idp.example/jwks",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_password": "a-long-random-password",
    }
    closed, _ = _app(**production)
    opened, _ = _app(**production, api_docs=True)
    switched_off, _ = _app(api_docs=False)
    async with await _client(closed) as http:
        closed_statuses = [(await http.get(path)).status_code for path in ("/openapi.json", "/docs", "/docs/start.js")]
    async with await _client(opened) as http:
        opened_statuses = [(await http.get(path)).status_code for path in ("/openapi.json", "/docs", "/docs/start.js")]
        spec = (await http.get("/openapi.json")).json()
    async with await _client(switched_off) as http:
        development_statuses = [(await http.get(path)).status_code for path in ("/openapi.json", "/docs")]
    assert closed_statuses == [404, 404, 404]
    assert opened_statuses == [200, 200, 200] and "/things" in spec["paths"]
    assert development_statuses == [404, 404]


async def test_the_interactive_docs_load_nothing_from_a_third_party_and_run_no_inline_script() -> None:
    app, _ = _app()
    async with await _client(app) as http:
        docs = await http.get("/docs")
        schema = await http.get("/openapi.json")
        page = docs.text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
        linked = re.findall(r'(?:src|href)="([^"]+)"', page)
        fetched = {url: (await http.get(url)) for url in linked}
        redoc = await http.get("/redoc")  # ReDoc would need its CDN: not served
    csp = docs.headers["content-security-policy"]
    assert docs.status_code == 200 and "script-src 'self';" in csp and "http" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert linked and all(url.startswith("/docs/") for url in linked)
    assert {url: response.status_code for url, response in fetched.items()} == dict.fromkeys(linked, 200)
    assert "SwaggerUIBundle" in fetched["/docs/assets/swagger-ui-bundle.js"].text
    assert '"/openapi.json"' in fetched["/docs/start.js"].text
    assert redoc.status_code == 404
    assert schema.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_a_client_over_its_rate_is_told_when_to_come_back() -> None:
    app, settings = _app(per_minute=3)
    first, second = (
        {"Authorization": f"Bearer {mint_token(settings, subject=s, role='officer', agency='SPD', jurisdiction='kc')}"}
        for s in ("a", "b")
    )
    async with await _client(app) as http:
        statuses = [(await http.post("/things", json={}, headers=first)).status_code for _ in range(4)]
        limited = await http.post("/things", json={}, headers=first)
        other = await http.post("/things", json={}, headers=second)
        health = await http.get("/healthz", headers=first)
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 200  # buckets are per client
    assert health.status_code == 200  # probes are never limited
