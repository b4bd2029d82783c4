"""The rate limit: keyed on the verified caller (else the client address), on changes only, bounded."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from divert_platform.app import create_app
from divert_platform.auth import Principal, allow, mint_token
from divert_platform.hardening import RateLimit
from divert_platform.problems import PROBLEM_JSON
from divert_platform.settings import ServiceSettings


def _app(per_minute: int = 3, **settings_values: Any):
    settings = ServiceSettings(rate_limit_per_minute=per_minute, kafka_bootstrap="127.0.0.1:1", **settings_values)
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    parts = SimpleNamespace(settings=settings, engine=engine, sessions=async_sessionmaker(engine))
    router = APIRouter()

    @router.post("/things")
    async def create(caller: Annotated[Principal, Depends(allow("service"))]) -> dict[str, str]:
        return {"by": caller.subject}

    @router.get("/things")
    async def read(caller: Annotated[Principal, Depends(allow("service"))]) -> dict[str, str]:
        return {"for": caller.subject}

    return create_app(title="t", description="t", parts=parts, routers=[router]), settings


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def _bearer(settings: ServiceSettings, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(settings, subject=subject, role='service')}"}


async def test_rotating_junk_tokens_are_counted_by_address() -> None:
    app, _ = _app()
    async with _client(app) as http:
        statuses = [
            (await http.post("/things", headers={"Authorization": f"Bearer junk-{n}"})).status_code for n in range(5)
        ]
        no_token = await http.post("/things")
    assert statuses == [401, 401, 401, 429, 429]
    assert no_token.status_code == 429  # the same address, with or without junk


async def test_each_verified_subject_has_its_own_budget() -> None:
    app, settings = _app()
    first, second = _bearer(settings, "a"), _bearer(settings, "b")
    async with _client(app) as http:
        statuses = [(await http.post("/things", headers=first)).status_code for _ in range(4)]
        limited = await http.post("/things", headers=first)
        other = await http.post("/things", headers=second)
        junk = await http.post("/things", headers={"Authorization": "Bearer junk"})
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == PROBLEM_JSON
    assert limited.json()["type"].endswith("/rate-limited")
    assert other.status_code == 200  # its own bucket
    assert junk.status_code == 401  # the address's bucket is untouched by verified callers


async def test_new_tokens_for_the_same_subject_share_one_bucket() -> None:
    app, settings = _app()
    async with _client(app) as http:
        # a different token each time (its expiry differs), always for the same subject
        statuses = [
            (
                await http.post(
                    "/things",
                    headers={
                        "Authorization": "Bearer "
                        + mint_token(settings, subject="minter", role="service", lifetime=timedelta(hours=n + 1))
                    },
                )
            ).status_code
            for n in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_reads_are_not_limited() -> None:
    app, settings = _app(per_minute=1)
    reader = _bearer(settings, "reader")
    async with _client(app) as http:
        reads = [(await http.get("/things", headers=reader)).status_code for _ in range(5)]
        health = [(await http.get("/healthz")).status_code for _ in range(3)]
        writes = [(await http.post("/things", headers=reader)).status_code for _ in range(2)]
    assert reads == [200] * 5
    assert 429 not in health
    assert writes == [200, 429]


async def test_the_bucket_store_stays_within_its_bound() -> None:
    limit = RateLimit(per_minute=1, max_callers=10_000)
    for n in range(50_000):
        assert limit._admit(f"address:{n}") is None  # each new caller starts with a full bucket
        assert len(limit) <= 10_000
    assert len(limit) == 10_000
    assert limit._admit("address:49999") is not None  # the most recent callers are remembered
    assert limit._admit("address:0") is None  # the oldest were forgotten (a forgotten bucket is a full one)


async def test_the_limit_can_be_turned_off() -> None:
    app, _ = _app(per_minute=0)
    async with _client(app) as http:
        statuses = [(await http.post("/things")).status_code for _ in range(5)]
    assert statuses == [401] * 5


async def test_the_api_document_says_which_routes_can_answer_429() -> None:
    app, _ = _app()
    async with _client(app) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    changes = paths["/things"]["post"]["responses"]
    assert "429" in changes and "Retry-After" in changes["429"]["headers"]
    assert "429" not in paths["/things"]["get"]["responses"]  # reads are never limited
