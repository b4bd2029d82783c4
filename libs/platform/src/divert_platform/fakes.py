"""In-memory stand-ins for unit tests of handlers: a unit of work and a repository, no database.

A service's `FakeUnitOfWork` (in its `tests/unit/conftest.py`) extends `FakeUnitOfWork` with
`InMemoryRepository` attributes named like its real repositories. Both keep the real ones'
contract: saves go through the aggregate's pending events and version (a stale version is a
`ConcurrencyConflict`), and the same mapper turns committed domain events into the integration
events the test can read in `published`. Only unit tests use these: the integration tier runs the
real repositories on SQLite and PostgreSQL.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from divert_contracts.base import IntegrationEvent
from divert_platform.aggregate import Aggregate, DomainEvent
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import Ids, StoredResponse, key_reused
from divert_platform.unit_of_work import ToIntegrationEvent, UnitOfWork

A = TypeVar("A", bound=Aggregate[Any])


class InMemoryIdempotencyStore:
    """Statuses and ids by `(scope, key)` in a dict, with the SQL store's conflict rule."""

    def __init__(self) -> None:
        self.responses: dict[tuple[str, str], tuple[str, StoredResponse]] = {}

    async def replay(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """What was answered for `key`; `Conflict` if the key was used with another fingerprint."""
        found = self.responses.get((scope, key))
        if found is None:
            return None
        if found[0] != fingerprint:
            raise key_reused()
        return found[1]

    async def remember(self, scope: str, key: str, fingerprint: str, status_code: int, ids: Ids) -> None:
        """Keep the status and ids answered for `key`."""
        self.responses[(scope, key)] = (fingerprint, StoredResponse(status_code, dict(ids)))


class FakeUnitOfWork(UnitOfWork):
    """Commits by moving staged integration events to `published`; `commits` counts commits.

    Repositories write straight into their dicts: a unit left without committing keeps them (the
    tests of handlers check what a handler did, not rollback, which the integration tier covers).
    """

    def __init__(self, to_integration_event: ToIntegrationEvent | None = None) -> None:
        super().__init__(to_integration_event)
        self.commits = 0
        self.published: list[IntegrationEvent] = []
        self.metadata: list[Mapping[str, Any]] = []
        """The attribution of each stored event, in order."""
        self._staged: list[IntegrationEvent] = []
        self.idempotency = InMemoryIdempotencyStore()

    async def _begin(self) -> None:
        self._staged = []

    async def _end(self) -> None:
        self._staged = []

    async def _publish(self, event: IntegrationEvent) -> None:
        self._staged.append(event)

    async def _commit(self) -> Sequence[IntegrationEvent]:
        self.commits += 1
        committed, self._staged = self._staged, []
        self.published += committed
        return committed


class InMemoryRepository(Generic[A]):
    """Event streams of one aggregate type in a dict, saved through a fake unit of work."""

    def __init__(self, aggregate: type[A], uow: FakeUnitOfWork) -> None:
        self._aggregate = aggregate
        self._uow = uow
        self.streams: dict[UUID, list[DomainEvent]] = {}

    async def get(self, aggregate_id: UUID) -> A | None:
        """The aggregate rebuilt from its stream, or None."""
        stream = self.streams.get(aggregate_id)
        return None if not stream else self._aggregate.from_events(aggregate_id, stream)

    async def save(self, aggregate: A, metadata: Mapping[str, Any] | None = None) -> None:
        """Append the pending events, refusing a stale version as the event store does."""
        pending = aggregate.take_pending()
        if not pending:
            return
        stream = self.streams.setdefault(aggregate.id, [])
        if len(stream) != aggregate.version:
            raise ConcurrencyConflict(aggregate.stream_id(aggregate.id), aggregate.version)
        stream.extend(pending)
        aggregate.version += len(pending)
        attribution = metadata if metadata is not None else self._uow.cause.metadata()
        self._uow.metadata.extend(attribution for _ in pending)
        self._uow.track(aggregate, pending)

    def add(self, aggregate: A) -> A:
        """Store a freshly built aggregate's pending events directly (arranging a test)."""
        self.streams.setdefault(aggregate.id, []).extend(aggregate.take_pending())
        aggregate.version = len(self.streams[aggregate.id])
        return aggregate
