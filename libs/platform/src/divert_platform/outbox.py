"""The transactional outbox: integration events written in the same transaction as the change.

The current trace context is stored with each row so that the relay's publish, however much
later, continues the trace of the request that caused it.
"""

from datetime import UTC, datetime
from uuid import uuid4

from opentelemetry import propagate
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from divert_contracts.base import IntegrationEvent
from divert_platform.schema import outbox

_INSERT = insert(outbox)
# One statement, its values given as parameters: SQLAlchemy then builds and caches it once, where
# `.values(...)` would coerce every value and key a new statement on each call (docs/performance.md).


class Outbox:
    """Adds integration events to the outbox inside the caller's transaction."""

    def __init__(self, session: AsyncSession, source: str) -> None:
        self._session = session
        self._source = source
        self.added: list[IntegrationEvent] = []
        """The events added in this transaction, in order."""

    async def add(self, event: IntegrationEvent, *, event_id: str | None = None) -> str:
        """Queue `event` for publication; returns its CloudEvents id."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        now = datetime.now(UTC)
        event_id = event_id or str(uuid4())
        await self._session.execute(
            _INSERT,
            {
                "event_id": event_id,
                "topic": event.topic,
                "message_key": event.partition_key,
                "event_type": event.event_type,
                "source": self._source,
                "subject": event.cloudevent_subject,
                "occurred_at": now,
                "data": event.model_dump(mode="json"),
                "traceparent": carrier.get("traceparent"),
                "tracestate": carrier.get("tracestate"),
                "created_at": now,
            },
        )
        self.added.append(event)
        return event_id
