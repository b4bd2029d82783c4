"""Kafka clients and topic administration shared by relays and consumers."""

import logging
from collections.abc import Collection, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.protocol.metadata import MetadataRequest

from divert_contracts.topics import Topic

log = logging.getLogger(__name__)

_TOPIC_EXISTS = TopicAlreadyExistsError.errno


def refuse_topic_auto_creation() -> None:
    """Make every Kafka client of this process ask for topic metadata without creating topics.

    aiokafka asks the broker to create any topic it requests metadata for (`MetadataRequest` v4's
    `allow_auto_topic_creation` is always true; no client setting changes it). The embedded broker
    honours that and creates a missing topic with its own default of 4 partitions: after it
    restarts, a producer or consumer that asks about a topic before `ensure_topics` has created it
    with its declared count wins the race, and producers then spread keys over partitions that
    consumer groups assigned from another count never read. Topics are created by `ensure_topics`
    (and in production beforehand, by deploy/, with `auto.create.topics.enable=false`) only.
    Called when this module is imported, which every process that talks to Kafka does.
    """
    if getattr(MetadataRequest.__init__, "divert_no_auto_creation", False):
        return
    original = MetadataRequest.__init__

    def without_auto_creation(
        self: MetadataRequest, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = False
    ) -> None:
        original(self, topics, allow_auto_topic_creation)

    without_auto_creation.divert_no_auto_creation = True  # type: ignore[attr-defined]
    MetadataRequest.__init__ = without_auto_creation


refuse_topic_auto_creation()

METADATA_MAX_AGE_MS = 10_000
"""How old cached topic metadata may grow (aiokafka's default is 5 minutes): a topic the broker lost
and someone re-created, possibly with other partitions, is noticed within seconds."""


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[Topic],
    *,
    replication_factor: int = 1,
    dead_letters: bool = True,
    dead_letter_retention_ms: int | None = None,
    **security: Any,
) -> list[str]:
    """Create each topic (and, with `dead_letters`, its dead-letter topic) unless it exists;
    returns those created.

    The embedded broker keeps topics in memory, so every relay and consumer calls this on start.
    Production creates its topics beforehand (deploy/), but a process that comes first must not
    create them less replicated: `replication_factor` is `DIVERT_KAFKA_REPLICATION_FACTOR`. Ask only
    for topics this process's principal may describe: under ACLs a topic it may not see looks
    missing, and creating it is refused.

    A dead-letter topic is created with `retention.ms` = `dead_letter_retention_ms` when given
    (`ServiceSettings.dead_letter_retention_ms`): its records are whole copies of events, personal
    data included, set aside for an operator, not kept for good. An existing topic is left as it
    is (deploy/'s create-topics.sh sets the retention of those).
    """
    wanted = [t for topic in topics for t in ((topic, topic.dead_letter) if dead_letters else (topic,))]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                t.name,
                t.partitions,
                replication_factor,
                topic_configs=_retention(dead_letter_retention_ms if t.name.endswith(".dlq") else None),
            )
            for t in wanted
            if t.name not in existing
        ]
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


def _retention(milliseconds: int | None) -> dict[str, str]:
    return {} if milliseconds is None else {"retention.ms": str(milliseconds)}


def create_producer(bootstrap: str, client_id: str, **security: Any) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas.

    Idempotent production is left off because the embedded broker does not implement
    InitProducerId; duplicates from producer retries are absorbed by consumers' inboxes.
    `security` carries SASL/TLS options (`ServiceSettings.kafka_options()`).
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        linger_ms=5,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        **security,
    )


class TopicOffsets:
    """Reads how many records whole topics have ever held (the sum of their partitions' log end
    offsets), and keeps a marker that tells whether the broker still remembers this relay.

    End offsets alone cannot say that a broker lost a topic: Tansu reports them short of the real
    end right after batched sends, which would look like a loss every few seconds. The marker is an
    offset committed for the group `marker_group`: a broker that lost its state (the embedded one
    on a restart) forgot it too, so offsets are compared only once the marker is gone.

    It never asks the broker about one topic by name for offsets, because brokers that auto-create
    topics (Tansu does) would create a missing one on the spot, with their default partition count
    instead of the declared one; topics are listed instead.
    """

    def __init__(self, bootstrap: str, client_id: str, *, marker_group: str | None = None, **security: Any) -> None:
        options = {"bootstrap_servers": bootstrap, "client_id": client_id, **security}
        self._admin = AIOKafkaAdminClient(**options)
        self._consumer = AIOKafkaConsumer(enable_auto_commit=False, metadata_max_age_ms=METADATA_MAX_AGE_MS, **options)
        self._marker = (
            AIOKafkaConsumer(group_id=marker_group, enable_auto_commit=False, **options) if marker_group else None
        )

    async def start(self) -> None:
        """Connect the clients."""
        await self._admin.start()
        await self._consumer.start()
        if self._marker is not None:
            await self._marker.start()

    async def stop(self) -> None:
        """Disconnect the clients."""
        if self._marker is not None:
            await self._marker.stop()
        await self._consumer.stop()
        await self._admin.close()

    async def broker_forgot(self, topic: str) -> bool:
        """True when the marker on `topic` is missing: never set, or lost with the broker's state.
        Without a marker group, always True (offsets are then compared on every check)."""
        if self._marker is None:
            return True
        partition = TopicPartition(topic, 0)
        if partition not in self._marker.assignment():
            self._marker.assign([partition])
        return await self._marker.committed(partition) is None

    async def remember(self, topic: str) -> None:
        """Set the marker on `topic` (after the relay made good whatever the broker had lost)."""
        if self._marker is not None:
            partition = TopicPartition(topic, 0)
            if partition not in self._marker.assignment():
                self._marker.assign([partition])
            await self._marker.commit({partition: 1})

    async def end_totals(self, topics: Collection[str]) -> dict[str, int]:
        """For each of `topics`, the sum of its partitions' end offsets; 0 for a topic the broker lacks."""
        described = await self._admin.describe_topics()  # all topics: a request that creates none
        partitions = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["topic"] in topics and topic["error_code"] == 0
            for partition in topic["partitions"]
        ]
        totals = dict.fromkeys(topics, 0)
        for partition, end in (await self._consumer.end_offsets(partitions) if partitions else {}).items():
            totals[partition.topic] += end
        return totals
