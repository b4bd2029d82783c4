"""The consumer runner: decode, de-duplicate, apply, commit; undecodable records go to `<topic>.dlq`.

For each record, in order: decode the CloudEvent (failing that, dead-letter it and move on); in
one transaction insert the inbox row keyed by `(ce_source, ce_id)` and apply the handler's effect;
commit; only then commit the Kafka offset. A redelivered record finds its inbox row and is skipped,
so at-least-once delivery never applies an effect twice.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from temporalio.service import RPCError, RPCStatusCode

from divert_contracts import codec
from divert_contracts.base import IntegrationEvent
from divert_contracts.topics import Topic
from divert_platform.clock import utcnow
from divert_platform.schema import inbox
from divert_platform.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("divert.consumer")

Handler = Callable[[UnitOfWork, codec.DecodedEvent], Awaitable[None]]


class RejectedMessage(Exception):
    """Raised by a handler for a well-formed event that can never be applied; it is dead-lettered."""


_TRANSIENT_RPC = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}


def is_transient(error: BaseException) -> bool:
    """True for failures of infrastructure (database, network, Temporal) that waiting cures."""
    if isinstance(error, RPCError):
        return error.status in _TRANSIENT_RPC
    return isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError)


class ConsumerRunner:
    """Runs one consumer group over `topics`, dispatching each event type to its handler.

    Event types without a handler are acknowledged and ignored. A handler that fails for a
    transient reason (database busy, a dependency down) is retried with backoff, without moving
    past the record, for as long as it takes. Any other failure is a defect or a record that can
    never apply: after `max_attempts` the record is dead-lettered so the partition keeps moving.
    Only error types are logged, never messages, which may quote personal data.
    """

    def __init__(
        self,
        *,
        group_id: str,
        bootstrap: str,
        topics: Sequence[Topic],
        handlers: Mapping[type[IntegrationEvent], Handler],
        unit_of_work: Callable[[], UnitOfWork],
        dead_letters: AIOKafkaProducer,
        max_backoff: float = 30.0,
        max_attempts: int = 5,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._group_id = group_id
        self._bootstrap = bootstrap
        self._topics = topics
        self._handlers = handlers
        self._unit_of_work = unit_of_work
        self._dead_letters = dead_letters
        self._max_backoff = max_backoff
        self._max_attempts = max_attempts
        self._kafka_options = dict(kafka_options or {})

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set."""
        consumer = AIOKafkaConsumer(
            *(topic.name for topic in self._topics),
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._kafka_options,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for partition, records in batches.items():
                    for record in records:
                        if stop.is_set():
                            return
                        await self.handle(record, stop)
                        await consumer.commit({partition: record.offset + 1})
        finally:
            await consumer.stop()

    async def handle(self, record: ConsumerRecord, stop: asyncio.Event | None = None) -> None:
        """Process one record completely (applied, skipped as duplicate, ignored or dead-lettered)."""
        headers = list(record.headers or ())
        carrier = {name: raw.decode("utf-8", "replace") for name, raw in headers}
        with tracer.start_as_current_span(
            f"process {record.topic}",
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.kafka.message.key": (record.key or b"").decode("utf-8", "replace"),
                "messaging.consumer.group.name": self._group_id,
            },
        ) as span:
            try:
                decoded = codec.decode(headers, record.key, record.value)
            except codec.UndecodableMessage as error:
                await self._dead_letter(record, str(error))
                span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                return
            span.set_attributes(
                {
                    "cloudevents.event_id": decoded.id,
                    "cloudevents.event_source": decoded.source,
                    "cloudevents.event_type": decoded.type,
                    "cloudevents.event_spec_version": "1.0",
                }
            )
            handler = self._handlers.get(type(decoded.event))
            if handler is None:
                return
            backoff, attempt = 0.2, 0
            while True:
                try:
                    await self._apply(handler, record, decoded)
                    return
                except RejectedMessage as error:
                    await self._dead_letter(record, f"rejected: {error}")
                    span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                    return
                except Exception as error:
                    attempt += 1
                    failure = type(error).__name__
                    span.add_event("handler failed", {"exception.type": failure, "attempt": attempt})
                    if not is_transient(error) and attempt >= self._max_attempts:
                        await self._dead_letter(record, f"handler failed {attempt} times: {failure}")
                        span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                        return
                    log.warning(
                        "handling %s failed (%s, attempt %d); retrying in %.1fs",
                        decoded.type,
                        failure,
                        attempt,
                        backoff,
                    )
                    if stop is not None and stop.is_set():
                        raise
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)

    async def _apply(self, handler: Handler, record: ConsumerRecord, decoded: codec.DecodedEvent) -> None:
        async with self._unit_of_work() as uow:
            seen = await uow.session.scalar(
                select(inbox.c.event_id).where(
                    inbox.c.consumer == self._group_id,
                    inbox.c.source == decoded.source,
                    inbox.c.event_id == decoded.id,
                )
            )
            if seen:
                return
            try:
                await uow.session.execute(
                    insert(inbox).values(
                        source=decoded.source,
                        event_id=decoded.id,
                        consumer=self._group_id,
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        processed_at=utcnow(),
                    )
                )
            except IntegrityError:
                return  # another member of the group applied it a moment ago
            await handler(uow, decoded)
            await uow.commit()

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        dead_letter_topic = f"{record.topic}.dlq"
        log.warning("dead-lettering %s[%d]@%d", record.topic, record.partition, record.offset)
        headers = [
            *(record.headers or ()),
            ("divert_dlq_error", reason.encode("utf-8")[:4000]),
            ("divert_dlq_topic", record.topic.encode()),
            ("divert_dlq_partition", str(record.partition).encode()),
            ("divert_dlq_offset", str(record.offset).encode()),
            ("divert_dlq_consumer", self._group_id.encode()),
        ]
        await self._dead_letters.send_and_wait(dead_letter_topic, value=record.value, key=record.key, headers=headers)
