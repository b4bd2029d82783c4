"""Pytest fixtures for integration tests: real parts, started on free ports, stopped by PID.

- `kafka_bootstrap`: a Tansu broker for the test session.
- `database_url`: a fresh, empty database per test, once on SQLite and once on PostgreSQL when
  `DIVERT_TEST_POSTGRES_URL` is set (CI sets it; the PostgreSQL case is skipped with that reason
  otherwise).
- `migrate(url, path)`: apply a service's migrations from inside the event loop.
- `produce(...)` and `records_keyed(...)`: put integration events on a real topic exactly as a
  relay encodes them, and read back the records of one key.
- `metric_reader` and `metric_value(...)`: the test process's metrics, read in memory.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal
from uuid import uuid4

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from alembic import command
from alembic.config import Config
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from sqlalchemy.engine import make_url

from divert_contracts import codec
from divert_contracts.base import IntegrationEvent
from divert_contracts.topics import by_name
from divert_platform.clock import utcnow
from divert_platform.embedded import free_port, start_broker, stop_process
from divert_platform.kafka import create_producer
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


async def migrate_to(
    database_url: str, migrations: Path, direction: Literal["upgrade", "downgrade"], revision: str
) -> None:
    """Move a database up or down to `revision` (a test of one migration's data rewrite), in a thread."""

    def run() -> None:
        config = Config()
        config.set_main_option("script_location", str(migrations))
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        getattr(command, direction)(config, revision)

    await asyncio.to_thread(run)


async def produce(
    bootstrap: str,
    event: IntegrationEvent,
    *,
    source: str,
    event_ids: list[str],
    partition: int | None = None,
    topic: str | None = None,
) -> None:
    """Publish `event` once per CloudEvents id (several ids = redeliveries), as a relay would; to
    `partition` when given, else to the one its key picks; on its own topic unless `topic` names
    another (as a forger would)."""
    producer = create_producer(bootstrap, "divert-test")
    await producer.start()
    try:
        for event_id in event_ids:
            message = codec.encode(
                event_id=event_id,
                source=source,
                event_type=event.event_type,
                subject=event.cloudevent_subject,
                time=utcnow(),
                key=event.partition_key,
                data=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(
                topic or event.topic,
                value=message.value,
                key=str(message.key).encode(),
                headers=list(message.headers.items()),
                partition=partition,
            )
    finally:
        await producer.stop()


async def records_keyed(bootstrap: str, topic: str, key: str, count: int) -> list[ConsumerRecord]:
    """The first `count` records of `topic` whose key is `key`, from the beginning (30 s at most)."""
    partitions = await _partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        async with asyncio.timeout(30):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found += [r for records in batches.values() for r in records if r.key == key.encode()]
        return found
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    """The partitions `topic` has on the broker, else as declared. They can differ: a broker that
    lost the topic may have re-created it on a client's request, with its own default count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics()  # all topics: asking for one could auto-create it
    finally:
        await admin.close()
    for found in described:
        if found["topic"] == topic and found["error_code"] == 0:
            return [partition["partition"] for partition in found["partitions"]]
    return list(range(by_name(topic).partitions))


__all__ = ["database_url", "kafka_bootstrap", "migrate", "produce", "records_keyed"]


@pytest.fixture(scope="session")
def metric_reader() -> InMemoryMetricReader:
    """The test process's meter provider, read in memory. Instruments are process-wide, so values
    accumulate over the session: compare readings taken before and after."""
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return reader


def metric_value(reader: InMemoryMetricReader, name: str, **labels: str) -> float:
    """The sum over the data points of metric `name` whose labels include `labels` (a histogram's
    points count their observations); 0 when there are none."""
    total = 0.0
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    if labels.items() <= {k: str(v) for k, v in (point.attributes or {}).items()}.items():
                        total += point.value if isinstance(point, NumberDataPoint) else point.count
    return total
