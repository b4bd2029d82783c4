"""Repositories of event-sourced aggregates: load from the event store, save new events.

`EventSourcedRepository[A]` is the SQL one: a service subclasses it per aggregate, naming the
aggregate type and, in `project`, updating its read models from each new event in the same
transaction. The unit of work it belongs to is told of every save, and publishes the saved events
on commit. `Repository[A]` is what handlers rely on, so unit tests can hand them an in-memory one.
"""

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast
from uuid import UUID

from divert_platform.aggregate import Aggregate, DomainEvent
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import SqlUnitOfWork

A = TypeVar("A", bound=Aggregate[Any])


class Repository(Protocol[A]):
    """Load an aggregate by id; save its new events (within the caller's unit of work)."""

    async def get(self, aggregate_id: UUID) -> A | None:
        """The aggregate rebuilt from its events, or None when it has none."""
        ...

    async def save(self, aggregate: A, metadata: Mapping[str, Any] | None = None) -> None:
        """Store the aggregate's pending events, attributed to `metadata` (the unit's cause by default).

        Raises `ConcurrencyConflict` when another writer changed the aggregate since it was loaded.
        """
        ...


class EventSourcedRepository(Generic[A]):
    """Aggregates of one type in a SQL unit of work's event store, with read models kept in step."""

    aggregate: ClassVar[type[Aggregate[Any]]]

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def get(self, aggregate_id: UUID) -> A | None:
        """The aggregate rebuilt from its events, or None when it has none."""
        stored = await self._uow.events.read(self.aggregate.stream_id(aggregate_id))
        if not stored:
            return None
        types = self.aggregate.event_types()
        history = [types[event.event_type].model_validate(event.data) for event in stored]
        return cast(A, self.aggregate.from_events(aggregate_id, history))

    async def save(self, aggregate: A, metadata: Mapping[str, Any] | None = None) -> None:
        """Append the pending events after the loaded version, update the read models, and tell the
        unit of work (which publishes them on commit)."""
        pending = aggregate.take_pending()
        if not pending:
            return
        attribution = metadata if metadata is not None else self._uow.cause.metadata()
        await self._uow.events.append(
            aggregate.stream_id(aggregate.id),
            aggregate.version,
            [NewEvent(event.name, event.model_dump(mode="json")) for event in pending],
            attribution,
        )
        for event in pending:
            aggregate.version += 1
            await self.project(event, aggregate.version, attribution)
        self._uow.track(aggregate, pending)

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Update the service's read models from one new event, the `version`-th of its stream,
        recorded with `metadata` (nothing by default)."""
