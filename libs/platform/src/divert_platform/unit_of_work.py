"""The unit of work: one transaction holding a service's events, read models and outbox together.

Handlers see a service's unit of work (its repositories as attributes, `uow.referrals`, …) and
never commit: whoever opened the unit (a route through the idempotency helper, the consumer
runner, an activity) commits it. Repositories tell the unit of work which aggregates changed; on
commit it turns their new domain events into integration events (the service's mapper) and
writes those to the outbox in the same transaction, so no event is stored without its outbox row
and no outbox row without its event.

`UnitOfWork` is what handlers depend on; `SqlUnitOfWork` is the SQLAlchemy one and each service's
unit tests use a fake (see `divert_platform.fakes`).
"""

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_platform.aggregate import Aggregate, DomainEvent
from divert_platform.cause import NO_CAUSE, Cause
from divert_platform.event_store import EventStore
from divert_platform.idempotency import IdempotencyStore, SqlIdempotencyStore
from divert_platform.outbox import Outbox

ToIntegrationEvent = Callable[[Any, Any], IntegrationEvent | Sequence[IntegrationEvent] | None]
"""A service's mapper: the contract event(s) to publish for a domain event of an aggregate, or None.
One domain event may be told on two topics, e.g. a case's full event for the case agencies and its
status-only milestone for the enforcement side."""


class UnitOfWork:
    """`async with uow:` opens the transaction; `commit()` makes all its writes visible at once.

    Leaving the block without committing rolls everything back. `cause` attributes the changes.
    """

    cause: Cause = NO_CAUSE
    idempotency: IdempotencyStore

    def __init__(
        self,
        to_integration_event: ToIntegrationEvent | None = None,
        on_commit: Callable[[Sequence[IntegrationEvent]], None] | None = None,
    ) -> None:
        self._to_integration_event = to_integration_event
        self._on_commit = on_commit
        self._changed: list[tuple[Aggregate[Any], list[DomainEvent]]] = []

    async def __aenter__(self) -> Self:
        self._changed = []
        await self._begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._changed = []
        await self._end()

    def track(self, aggregate: Aggregate[Any], new_events: list[DomainEvent]) -> None:
        """Note events a repository stored for `aggregate`: they are published on commit."""
        self._changed.append((aggregate, new_events))

    async def stage(self) -> None:
        """Publish the events tracked so far to the outbox, without committing.

        The outbox rows take the trace context current now; the consumer runner stages each record
        of a run inside that record's span, then commits the run once.
        """
        for aggregate, new_events in self._changed:
            for event in new_events:
                contract = self._to_integration_event(event, aggregate) if self._to_integration_event else None
                for told in (contract,) if isinstance(contract, IntegrationEvent) else contract or ():
                    await self._publish(told)
        self._changed = []

    async def commit(self) -> None:
        """Publish the tracked events to the outbox, then commit the transaction."""
        await self.stage()
        published = await self._commit()
        if self._on_commit is not None and published:
            self._on_commit(published)

    async def _begin(self) -> None:
        raise NotImplementedError

    async def _end(self) -> None:
        raise NotImplementedError

    async def _commit(self) -> Sequence[IntegrationEvent]:
        """Commit; returns the integration events the transaction published."""
        raise NotImplementedError

    async def _publish(self, event: IntegrationEvent) -> None:
        raise NotImplementedError


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on a SQLAlchemy session: event store, outbox and read models in one transaction.

    Subclasses open their repositories in `_open_repositories`, once the session exists.
    """

    session: AsyncSession
    events: EventStore
    outbox: Outbox

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        source: str,
        on_commit: Callable[[Sequence[IntegrationEvent]], None] | None = None,
        to_integration_event: ToIntegrationEvent | None = None,
    ) -> None:
        super().__init__(to_integration_event, on_commit)
        self._session_factory = session_factory
        self._source = source

    async def _begin(self) -> None:
        self.session = self._session_factory()
        await self.session.begin()
        self.events = EventStore(self.session)
        self.outbox = Outbox(self.session, self._source)
        self.idempotency = SqlIdempotencyStore(self.session)
        self._open_repositories()

    def _open_repositories(self) -> None:
        """Attach the service's repositories (none here)."""

    async def _end(self) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def _commit(self) -> Sequence[IntegrationEvent]:
        await self.outbox.flush()
        await self.session.commit()
        published, self.outbox.added = self.outbox.added, []  # a later commit reports only its own
        return published

    async def _publish(self, event: IntegrationEvent) -> None:
        await self.outbox.add(event)
