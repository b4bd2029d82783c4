"""The outbox relay: publishes unpublished outbox rows as CloudEvents, in order, at least once."""

import asyncio
import logging
import time

from aiokafka import AIOKafkaProducer
from opentelemetry import context, metrics, propagate
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts import codec
from divert_platform.clock import as_utc, utcnow
from divert_platform.schema import outbox

log = logging.getLogger(__name__)

_meter = metrics.get_meter("divert.relay")
_published = _meter.create_counter("divert.outbox.published", description="Outbox rows published, by topic.")
_backlog = _meter.create_gauge("divert.outbox.backlog", description="Outbox rows not yet published.")
_oldest_age = _meter.create_gauge(
    "divert.outbox.oldest_unpublished_age",
    unit="s",
    description="Age of the oldest outbox row not yet published (0 when none): how late the topics run.",
)

# Any constant works: it only has to be the same for every relay of one service's database.
_RELAY_LOCK_ID = 0x44495645  # "DIVE"


class OutboxRelay:
    """Moves outbox rows to Kafka.

    Safe to run N at once: on PostgreSQL a transaction-scoped advisory lock lets one relay publish
    at a time (the others are hot standbys), which keeps each referral's events in order and
    sidesteps the sequence-gap problem of tailing by position. SQLite serialises writers anyway.
    A crash between publish and commit re-sends the batch; consumers' inboxes drop the copies.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 200,
    ) -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._batch_size = batch_size

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        async with self._session_factory() as session, session.begin():
            if session.bind.dialect.name == "postgresql":
                locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _RELAY_LOCK_ID})
                if not locked:
                    return 0
            rows = (
                await session.execute(
                    select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(self._batch_size)
                )
            ).all()
            if not rows:
                return 0
            deliveries = [await self._send(row) for row in rows]
            await asyncio.gather(*deliveries)
            await session.execute(
                update(outbox).where(outbox.c.id.in_([row.id for row in rows])).values(published_at=utcnow())
            )
        for row in rows:
            _published.add(1, {"topic": row.topic})
        return len(rows)

    async def measure_backlog(self) -> tuple[int, float]:
        """Count the unpublished rows and the age in seconds of the oldest; also sets the gauges."""
        async with self._session_factory() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        age = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
        _backlog.set(count)
        _oldest_age.set(max(age, 0.0))
        return count, age

    async def _send(self, row) -> asyncio.Future:  # type: ignore[no-untyped-def, type-arg]
        message = codec.encode(
            event_id=row.event_id,
            source=row.source,
            event_type=row.event_type,
            subject=row.subject,
            time=as_utc(row.occurred_at),
            key=row.message_key,
            data=row.data,
        )
        # Publish inside the trace of the request that wrote the row; the aiokafka instrumentation
        # then injects this context as the record's `traceparent` header.
        carrier = {k: v for k, v in (("traceparent", row.traceparent), ("tracestate", row.tracestate)) if v}
        token = context.attach(propagate.extract(carrier))
        try:
            return await self._producer.send(
                row.topic,
                value=message.value,
                key=str(message.key).encode(),
                headers=list(message.headers.items()),  # a list: the tracing hook appends to it
            )
        finally:
            context.detach(token)

    async def run(
        self,
        stop: asyncio.Event,
        *,
        idle_seconds: float = 0.2,
        max_backoff: float = 10.0,
        measure_every: float = 5.0,
    ) -> None:
        """Publish until `stop` is set, backing off while the broker or database is unavailable.

        The backlog gauges are refreshed every `measure_every` seconds, between batches.
        """
        backoff, measured_at = idle_seconds, float("-inf")
        while not stop.is_set():
            try:
                if time.monotonic() - measured_at >= measure_every:
                    measured_at = time.monotonic()
                    await self.measure_backlog()
                published = await self.publish_pending()
                backoff = idle_seconds
            except Exception:
                log.exception("outbox relay could not publish; retrying in %.1fs", backoff)
                published = 0
                backoff = min(backoff * 2, max_backoff)
            if not published:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                except TimeoutError:
                    pass
