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
    """Adds integration events to the outbox inside the caller's transaction.

    The rows are written by `flush`, all in one statement, which the unit of work calls just before
    it commits: a command or a consumer's run of records that tells several events pays for one
    insert, not one each (docs/performance.md).
    """

    def __init__(self, session: AsyncSession, source: str) -> None:
        self._session = session
        self._source = source
        self._rows: list[dict[str, object]] = []
        self.added: list[IntegrationEvent] = []
        """The events added in this transaction, in order."""

    async def add(self, event: IntegrationEvent, *, event_id: str | None = None) -> str:
        """Queue `event` for publication, with the trace context current now; returns its
        CloudEvents id. The row is written at the next `flush`."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        now = datetime.now(UTC)
        event_id = event_id or str(uuid4())
        self._rows.append(
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
            }
        )
        self.added.append(event)
        return event_id

    async def flush(self) -> None:
        """Write the rows added since the last flush, in the order added, in one statement."""
        if self._rows:
            rows, self._rows = self._rows, []
            await self._session.execute(_INSERT, rows)
