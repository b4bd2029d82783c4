"""The services directory: migrations, health and the Open Referral HSDS 3.0 root document."""

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import inspect

from divert_directory.bootstrap import MIGRATIONS, Directory, bootstrap
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api
from divert_platform.testing import migrate

# DIVERT_HSDS_STANDARD_DIR, else <repo>/services/services-directory/tests/integration/<this file> → ../shared
_BESIDE_REPO = Path(__file__).resolve().parents[5] / "shared" / "standards" / "hsds-3.0"
HSDS_OPENAPI = Path(os.environ.get("DIVERT_HSDS_STANDARD_DIR") or _BESIDE_REPO) / "schema" / "openapi.json"


@pytest.fixture
async def directory(database_url: str) -> AsyncIterator[Directory]:
    await migrate(database_url, MIGRATIONS)
    # Port 1 on loopback never has a broker: readiness must say so.
    parts = bootstrap(DirectorySettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


@pytest.fixture
async def client(directory: Directory) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api(directory))
    async with httpx.AsyncClient(transport=transport, base_url="http://directory.test") as http:
        yield http


def hsds_root_schema() -> dict[str, Any]:
    """The response schema HSDS 3.0's OpenAPI gives for `GET /` (there is no separate schema file)."""
    if not HSDS_OPENAPI.exists():
        pytest.skip(f"{HSDS_OPENAPI} is absent: the HSDS 3.0 standard lives in the ../shared folder beside the repo")
    openapi = json.loads(HSDS_OPENAPI.read_text())
    return openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def check_against(schema: dict[str, Any], document: dict[str, Any]) -> None:
    """Validate by hand what the schema says (jsonschema is not installed): types, uri formats."""
    assert schema["type"] == "object" and isinstance(document, dict)
    for name, rule in schema["properties"].items():
        assert name in document, f"{name} missing"
        value = document[name]
        assert rule["type"] == "string" and isinstance(value, str), name
        if rule.get("format") == "uri":
            parts = urlsplit(value)
            assert parts.scheme in ("http", "https") and parts.netloc, f"{name} is not an absolute URI: {value}"
    assert set(document) <= set(schema["properties"]), "no fields beyond the HSDS root document"


async def test_migrations_create_the_platform_tables(directory: Directory) -> None:
    async with directory.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))

    assert {"events", "outbox", "inbox", "idempotency_keys", "alembic_version"} <= tables


async def test_migrating_twice_is_harmless(database_url: str, directory: Directory) -> None:
    await migrate(database_url, MIGRATIONS)


async def test_the_root_is_the_hsds_3_root_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    document = response.json()
    check_against(hsds_root_schema(), document)
    assert document["version"] == "3.0"
    assert document["openapi_url"] == "http://directory.test/openapi.json"


async def test_the_openapi_url_serves_this_apis_openapi(client: httpx.AsyncClient) -> None:
    openapi_url = (await client.get("/")).json()["openapi_url"]

    openapi = await client.get(openapi_url)

    assert openapi.status_code == 200
    assert openapi.json()["info"]["title"] == "Divert services directory"
    assert "/" in openapi.json()["paths"]


async def test_the_openapi_url_follows_the_callers_base_url(directory: Directory) -> None:
    transport = httpx.ASGITransport(app=build_api(directory), root_path="/directory")
    async with httpx.AsyncClient(transport=transport, base_url="https://catalogue.example") as http:
        document = (await http.get("/directory/")).json()

    assert document["openapi_url"] == "https://catalogue.example/directory/openapi.json"


async def test_liveness_and_readiness_tell_the_truth(client: httpx.AsyncClient) -> None:
    live = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["broker"].startswith("unavailable")


async def test_readiness_is_ready_when_database_and_broker_answer(database_url: str, kafka_bootstrap: str) -> None:
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(DirectorySettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api(parts)), base_url="http://d") as http:
            ready = await http.get("/readyz")
    finally:
        await parts.engine.dispose()

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_the_hsds_root_is_public_and_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    # HSDS directory data is public: no bearer token is needed, for the root or for health
    response = await client.get("/")

    assert response.status_code == 200
    assert "authorization" not in {name.lower() for name in client.headers}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert (await client.get("/healthz")).status_code == 200
