"""The outbox relay: publishes unpublished outbox rows as CloudEvents, in order, at least once."""

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode, get_current_span
from sqlalchemy import Row, Text, cast, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts import codec
from divert_platform.clock import utcnow
from divert_platform.db import is_postgres
from divert_platform.replay import lost_topics, mark_unpublished, published_counts
from divert_platform.schema import outbox

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("divert.relay")
_KAFKA_KEY = "messaging.kafka.message.key"

_meter = metrics.get_meter("divert.relay")
_published = _meter.create_counter("divert.outbox.published", description="Outbox rows published, by topic.")
_replayed = _meter.create_counter(
    "divert.outbox.replayed",
    description="Outbox rows marked for re-publishing because the broker lost their topic, by topic.",
)
_backlog = _meter.create_gauge("divert.outbox.backlog", description="Outbox rows not yet published.")
_oldest_age = _meter.create_gauge(
    "divert.outbox.oldest_unpublished_age",
    unit="s",
    description="Age of the oldest outbox row not yet published (0 when none): how late the topics run.",
)

# Any constant works: it only has to be the same for every relay of one service's database.
_RELAY_LOCK_ID = 0x44495645  # "DIVE"

# The columns a record is made of; `data` as the JSON text stored, sent as it is instead of being
# decoded only to be encoded again (a tenth of the relay's time).
_RECORD_COLUMNS = [
    outbox.c.id,
    outbox.c.event_id,
    outbox.c.topic,
    outbox.c.message_key,
    outbox.c.event_type,
    outbox.c.source,
    outbox.c.subject,
    outbox.c.occurred_at,
    cast(outbox.c.data, Text).label("data"),
    outbox.c.traceparent,
    outbox.c.tracestate,
]


def _trace_headers(row: Row[Any]) -> list[tuple[str, bytes]]:
    stored = (("traceparent", row.traceparent), ("tracestate", row.tracestate))
    return [(name, value.encode()) for name, value in stored if value]


@contextmanager
def publish_spans(rows: Sequence[Row[Any]]) -> Iterator[list[Span]]:
    """One PRODUCER span per topic of a batch, `<topic> send` as the messaging conventions name a
    send, each linked to the span context stored with every row it carries (`divert trace` shows
    it under each of those requests). A span per record cost about as much as the sending itself."""
    by_topic: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        by_topic[row.topic].append(row)
    spans = []
    for topic, carried in by_topic.items():
        links = [Link(context, {_KAFKA_KEY: row.message_key}) for row in carried if (context := _stored(row))]
        spans.append(
            _tracer.start_span(
                f"{topic} send",
                kind=SpanKind.PRODUCER,
                links=links,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": topic,
                    "messaging.batch.message_count": len(carried),
                },
            )
        )
    try:
        yield spans
    finally:
        for span in spans:
            span.end()


def _stored(row: Row[Any]) -> SpanContext | None:
    """The span context stored with the row (that of the request or message that wrote it)."""
    if not row.traceparent:
        return None
    carrier = {"traceparent": row.traceparent, **({"tracestate": row.tracestate} if row.tracestate else {})}
    context = get_current_span(propagate.extract(carrier)).get_span_context()
    return context if context.is_valid else None


class EndOffsets(Protocol):
    """Where the relay learns how many records each topic holds and whether the broker forgot it
    (`divert_platform.kafka.TopicOffsets`)."""

    async def end_totals(self, topics: Collection[str]) -> dict[str, int]: ...

    async def broker_forgot(self, topic: str) -> bool: ...

    async def remember(self, topic: str) -> None: ...


async def _hold_relay_lock(session: AsyncSession) -> bool:
    """Take the relays' transaction-scoped lock on PostgreSQL; False when another relay holds it."""
    if not is_postgres(session):
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _RELAY_LOCK_ID}))


class OutboxRelay:
    """Moves outbox rows to Kafka.

    Safe to run N at once: on PostgreSQL a transaction-scoped advisory lock lets one relay publish
    at a time (the others are hot standbys), which keeps each referral's events in order and
    sidesteps the sequence-gap problem of tailing by position. On SQLite (the embedded default)
    a service runs one relay. A crash between publishing a batch and marking it published re-sends
    the batch; consumers' inboxes drop the copies.

    Given `topic_offsets` (and `ensure_topics`, which creates the topics), it also notices when the
    broker has lost a topic it published to, re-creates it and publishes that topic's rows again.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 1000,
        topic_offsets: EndOffsets | None = None,
        ensure_topics: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._batch_size = batch_size
        self._offsets = topic_offsets
        self._ensure_topics = ensure_topics

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published.

        On PostgreSQL the batch is read, sent and marked published in one transaction that holds
        the relays' advisory lock. On SQLite any transaction holds the database's write lock, which
        the API and the consumer would wait for while the broker acknowledges: there the batch is
        read and marked in two short transactions with the sending between them (the embedded
        default runs one relay per database).
        """
        async with self._session_factory() as session:
            if is_postgres(session):
                async with session.begin():
                    if not await _hold_relay_lock(session):
                        return 0
                    rows = await self._unpublished(session)
                    await self._send_all(rows)
                    await self._mark_published(session, rows)
            else:
                async with session.begin():
                    rows = await self._unpublished(session)
                await self._send_all(rows)
                async with session.begin():
                    await self._mark_published(session, rows)
        for topic, count in Counter(row.topic for row in rows).items():
            _published.add(count, {"topic": topic})
        return len(rows)

    async def _unpublished(self, session: AsyncSession) -> Sequence[Row[Any]]:
        """The next batch of unpublished rows, oldest first."""
        query = select(*_RECORD_COLUMNS).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id)
        return (await session.execute(query.limit(self._batch_size))).all()

    async def _send_all(self, rows: Sequence[Row[Any]]) -> None:
        """Send the rows in order and wait until the broker has acknowledged every one, inside one
        `<topic> send` span per topic of the batch, linked to the trace of each row it carries."""
        if not rows:
            return
        with publish_spans(rows) as spans:
            try:
                deliveries = [await self._send(row) for row in rows]
                await asyncio.gather(*deliveries)
            except Exception as error:
                for span in spans:
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR, "not acknowledged"))
                raise

    @staticmethod
    async def _mark_published(session: AsyncSession, rows: Sequence[Row[Any]]) -> None:
        if rows:
            await session.execute(
                update(outbox).where(outbox.c.id.in_([row.id for row in rows])).values(published_at=utcnow())
            )

    async def measure_backlog(self) -> tuple[int, float]:
        """Count the unpublished rows and the age in seconds of the oldest; also sets the gauges."""
        async with self._session_factory() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        _backlog.set(count)
        _oldest_age.set(max(age, 0.0))
        return count, age

    async def recover_lost_topics(self, *, ensure_first: bool = False) -> dict[str, int]:
        """Re-publish the rows of every topic the broker lost; returns how many rows, by topic.

        A topic is lost when it holds fewer records than rows were published to it (`lost_topics`),
        as happens when the embedded broker restarts. The topics are created again first, and with
        `ensure_first` (after a failed publish: perhaps the broker came back empty) before anything
        else, so that the producers and consumers waiting for a missing topic get it, with its
        declared partitions, as soon as possible.
        """
        if ensure_first and self._ensure_topics is not None:
            await self._ensure_topics()
        if self._offsets is None:
            return {}
        async with self._session_factory() as session:
            published = await published_counts(session)
        if not published:
            return {}
        marker = min(published)  # any topic this relay published to, the same every time
        if not await self._offsets.broker_forgot(marker):
            return {}  # the broker kept its state: whatever it reports, it lost nothing
        suspects = lost_topics(published, await self._offsets.end_totals(list(published)))
        if not suspects:
            await self._offsets.remember(marker)
            return {}
        if self._ensure_topics is not None:
            await self._ensure_topics()
        replayed: dict[str, int] = {}
        async with self._session_factory() as session, session.begin():
            if not await _hold_relay_lock(session):
                return {}  # another relay is publishing; whichever checks next under the lock re-publishes
            # Count and read again under the lock: another relay may have re-published them meanwhile.
            published = await published_counts(session, suspects)
            end_totals = await self._offsets.end_totals(suspects)
            for topic in lost_topics(published, end_totals):
                replayed[topic] = await mark_unpublished(session, topic=topic)
                log.warning(
                    "the broker lost topic %s (it holds %d records, %d outbox rows were published to it): "
                    "re-publishing %d rows",
                    topic,
                    end_totals.get(topic, 0),
                    published[topic],
                    replayed[topic],
                )
        for topic, count in replayed.items():
            _replayed.add(count, {"topic": topic})
        if replayed:
            await self._offsets.remember(marker)  # only once the rows are marked: a crash before re-checks
        return replayed

    async def _send(self, row: Row[Any]) -> "asyncio.Future[RecordMetadata]":
        message = codec.encode(
            event_id=row.event_id,
            source=row.source,
            event_type=row.event_type,
            subject=row.subject,
            time=row.occurred_at,
            key=row.message_key,
            data=row.data,
        )
        # The record continues the trace of the request that wrote the row: its stored context goes
        # into the headers as it is (the consumers' spans are its children), not through a span of
        # the relay's per record.
        headers = [*message.headers.items(), *_trace_headers(row)]
        delivery: asyncio.Future[RecordMetadata] = await self._producer.send(
            row.topic, value=message.value, key=str(message.key).encode(), headers=headers
        )
        return delivery

    async def run(
        self,
        stop: asyncio.Event,
        *,
        idle_seconds: float = 0.2,
        max_backoff: float = 10.0,
        measure_every: float = 5.0,
    ) -> None:
        """Publish until `stop` is set, backing off while the broker or database is unavailable.

        Every `measure_every` seconds, between batches, the backlog gauges are refreshed and lost
        topics are looked for (`recover_lost_topics`); after a failure, that comes first, with the
        topics re-created, so rows the broker lost are published again before newer ones.
        """
        backoff, checked_at, failed = idle_seconds, float("-inf"), False
        while not stop.is_set():
            try:
                if failed or time.monotonic() - checked_at >= measure_every:
                    checked_at = time.monotonic()
                    await self.measure_backlog()
                    await self.recover_lost_topics(ensure_first=failed)
                    failed = False
                published = await self.publish_pending()
                backoff = idle_seconds
            except Exception:
                log.exception("outbox relay could not publish; retrying in %.1fs", backoff)
                failed, published = True, 0
                backoff = min(backoff * 2, max_backoff)
            if not published:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                except TimeoutError:
                    pass
