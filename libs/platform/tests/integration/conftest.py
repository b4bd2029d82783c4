"""Shared parts of the platform's integration tests: a migrated database and a producer."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.topics import REFERRALS
from divert_platform.db import create_engine, create_session_factory
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.testing import migrate

MIGRATIONS = Path(__file__).parent / "platform_migrations"


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap, [REFERRALS])
    client = create_producer(kafka_bootstrap, "platform-test")
    await client.start()
    yield client
    await client.stop()
