"""Pytest fixtures for integration tests: real parts, started on free ports, stopped by PID.

- `kafka_bootstrap`: a Tansu broker for the test session.
- `database_url`: a fresh, empty database per test, once on SQLite and once on PostgreSQL when
  `DIVERT_TEST_POSTGRES_URL` is set (CI sets it; the PostgreSQL case is skipped with that reason
  otherwise).
- `migrate(url, path)`: apply a service's migrations from inside the event loop.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from divert_platform.embedded import free_port, start_broker, stop_process
from divert_platform.migrations import upgrade_to_head

POSTGRES_ENV = "DIVERT_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real Kafka-API broker (Tansu, memory storage) for the whole test session."""
    port = free_port()
    broker = start_broker(port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(broker)


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each supported kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"{POSTGRES_ENV} is not set: the PostgreSQL tier runs in CI (.ci/run) or when you set it")
    async for url in _postgres_database(admin_url):
        yield url


async def _postgres_database(admin_url: str) -> AsyncIterator[str]:
    import asyncpg

    name = f"divert_test_{uuid4().hex[:12]}"
    admin = make_url(admin_url)
    plain = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def migrate(database_url: str, migrations: Path) -> None:
    """Apply migrations from async code (Alembic runs its own loop, so in a thread)."""
    await asyncio.to_thread(upgrade_to_head, database_url, migrations)


__all__ = ["database_url", "kafka_bootstrap", "migrate"]
