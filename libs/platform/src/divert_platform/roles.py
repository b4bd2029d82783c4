"""The long-running roles every service runs as separate processes: api, relay, consumer."""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, before_sleep_log, wait_exponential

from divert_contracts.base import IntegrationEvent
from divert_contracts.dataplane import ServiceAccess
from divert_contracts.topics import Topic
from divert_platform.consumer import ConsumerRunner, Effect, Handler
from divert_platform.kafka import TopicOffsets, create_producer, ensure_topics
from divert_platform.relay import OutboxRelay
from divert_platform.settings import ServiceSettings
from divert_platform.unit_of_work import SqlUnitOfWork

log = logging.getLogger(__name__)


def until_reachable() -> AsyncRetrying:
    """Retry a start-up step while a dependency is still coming up (forever, with backoff)."""
    return AsyncRetrying(
        wait=wait_exponential(multiplier=0.2, max=5), before_sleep=before_sleep_log(log, logging.WARNING), reraise=True
    )


async def run_relay(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    access: ServiceAccess,
) -> None:
    """Publish the service's outbox (to the topics `access` says it produces) until stopped.

    Every topic the service's principal may see is (re-)created first, and again whenever
    publishing fails or a topic turns out lost: the embedded broker forgets them when it restarts,
    and the service's producers and consumers wait for them meanwhile (none asks the broker to
    auto-create a topic with a partition count of its own: `kafka.refuse_topic_auto_creation`). So
    the relay, which notices a restart first, creates the topics it writes and the ones its
    service's consumer reads (with their dead-letter topics); no others, which under ACLs it could
    not even see.
    """

    async def ensure_all_topics() -> None:
        for topics, dead_letters in ((access.produces, False), (access.consumes, True)):
            await ensure_topics(
                settings.kafka_bootstrap,
                topics,
                replication_factor=settings.kafka_replication_factor,
                dead_letters=dead_letters,
                dead_letter_retention_ms=settings.dead_letter_retention_ms,
                **settings.kafka_options(),
            )

    async for attempt in until_reachable():
        with attempt:
            await ensure_all_topics()
    client_id = f"divert-{settings.service_name}-relay"
    producer = create_producer(settings.kafka_bootstrap, client_id, **settings.kafka_options())
    offsets = TopicOffsets(
        settings.kafka_bootstrap, client_id, marker_group=f"{client_id}-marker", **settings.kafka_options()
    )
    async for attempt in until_reachable():
        with attempt:
            await producer.start()
    async for attempt in until_reachable():
        with attempt:
            await offsets.start()
    try:
        await OutboxRelay(sessions, producer, topic_offsets=offsets, ensure_topics=ensure_all_topics).run(stop)
    finally:
        await offsets.stop()
        await producer.stop()


async def run_consumer(
    settings: ServiceSettings,
    *,
    topics: Sequence[Topic],
    handlers: Mapping[type[IntegrationEvent], Handler],
    unit_of_work: Callable[[], SqlUnitOfWork],
    stop: asyncio.Event,
    group_id: str | None = None,
    effects: Mapping[type[IntegrationEvent], Effect] | None = None,
) -> None:
    """Consume `topics` as the service's consumer group until stopped (see `ConsumerRunner`)."""
    async for attempt in until_reachable():
        with attempt:
            await ensure_topics(
                settings.kafka_bootstrap,
                topics,
                replication_factor=settings.kafka_replication_factor,
                dead_letter_retention_ms=settings.dead_letter_retention_ms,
                **settings.kafka_options(),
            )
    dead_letters = create_producer(
        settings.kafka_bootstrap, f"divert-{settings.service_name}-dlq", **settings.kafka_options()
    )
    async for attempt in until_reachable():
        with attempt:
            await dead_letters.start()
    runner = ConsumerRunner(
        group_id=group_id or f"divert-{settings.service_name}",
        bootstrap=settings.kafka_bootstrap,
        topics=topics,
        handlers=handlers,
        effects=effects,
        unit_of_work=unit_of_work,
        dead_letters=dead_letters,
        kafka_options=settings.kafka_options(),
        replication_factor=settings.kafka_replication_factor,
        dead_letter_retention_ms=settings.dead_letter_retention_ms,
    )
    try:
        await runner.run(stop)
    finally:
        await dead_letters.stop()


def serve_api(factory: str, settings: ServiceSettings) -> None:
    """Serve the ASGI app built by `factory` ("module:function") on the configured host and port."""
    # log_config=None: uvicorn logs through the root logger, so its lines are JSON with trace ids too
    uvicorn.run(factory, factory=True, host=settings.host, port=settings.port, log_config=None, access_log=False)
