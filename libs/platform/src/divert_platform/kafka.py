"""Kafka clients and topic administration shared by relays and consumers."""

import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from divert_contracts.topics import Topic

log = logging.getLogger(__name__)

_TOPIC_EXISTS = TopicAlreadyExistsError.errno


async def ensure_topics(bootstrap: str, topics: Iterable[Topic], **security: Any) -> list[str]:
    """Create each topic and its dead-letter topic unless it exists; returns those created.

    The embedded broker keeps topics in memory, so every relay and consumer calls this on start.
    """
    wanted = [t for topic in topics for t in (topic, topic.dead_letter)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t.name, t.partitions, 1) for t in wanted if t.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(missing)
        created = []
        for name, code, *_ in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_EXISTS:  # a concurrent creator won the race: fine
                raise RuntimeError(f"could not create topic {name}: error code {code}")
        if created:
            log.info("created topics %s", ", ".join(created))
        return created
    finally:
        await admin.close()


def create_producer(bootstrap: str, client_id: str, **security: Any) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas.

    Idempotent production is left off because the embedded broker does not implement
    InitProducerId; duplicates from producer retries are absorbed by consumers' inboxes.
    `security` carries SASL/TLS options (`ServiceSettings.kafka_options()`).
    """
    return AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, acks="all", linger_ms=5, **security)
