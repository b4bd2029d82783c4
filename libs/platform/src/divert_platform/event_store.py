"""Append-only event streams with optimistic concurrency.

Each aggregate is one stream; `(stream_id, stream_version)` is unique, so two writers that loaded
the same version cannot both append: the second gets `ConcurrencyConflict` and must reload.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.schema import events


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream since it was loaded."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class NewEvent:
    """A domain event about to be recorded."""

    event_type: str
    data: Mapping[str, Any]
    event_id: str = field(default_factory=lambda: str(uuid4()))


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event as stored, with its place in the stream and in the whole store."""

    position: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


class EventStore:
    """Reads and appends streams inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def read(self, stream_id: str) -> list[RecordedEvent]:
        """Every event of the stream, oldest first (empty if the stream does not exist)."""
        rows = await self._session.execute(
            select(events).where(events.c.stream_id == stream_id).order_by(events.c.stream_version)
        )
        return [RecordedEvent(**row._mapping) for row in rows]

    async def version(self, stream_id: str) -> int:
        """The stream's current version; 0 for a stream with no events."""
        result = await self._session.execute(
            select(func.max(events.c.stream_version)).where(events.c.stream_id == stream_id)
        )
        return result.scalar_one_or_none() or 0

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        metadata: Mapping[str, Any],
    ) -> None:
        """Append `new_events` after `expected_version` or raise `ConcurrencyConflict`.

        The conflict surfaces as a unique-key violation, which also spoils the transaction: the
        caller rolls back and retries from a fresh load.
        """
        if not new_events:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "stream_id": stream_id,
                "stream_version": expected_version + offset,
                "event_id": new_event.event_id,
                "event_type": new_event.event_type,
                "data": dict(new_event.data),
                "metadata": dict(metadata),
                "recorded_at": now,
            }
            for offset, new_event in enumerate(new_events, start=1)
        ]
        try:
            # No savepoint: after a conflict the whole transaction is retried, never continued.
            await self._session.execute(insert(events), rows)
        except IntegrityError as error:
            raise ConcurrencyConflict(stream_id, expected_version) from error
