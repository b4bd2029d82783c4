"""One transaction holding a service's event store, outbox and read-model writes together."""

from collections.abc import Callable, Sequence
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_platform.event_store import EventStore
from divert_platform.outbox import Outbox


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` makes all its writes visible at once.

    Leaving the block without committing rolls everything back, so a handler that fails half-way
    leaves no event without its outbox row and no outbox row without its event. `on_commit` is
    told the integration events of each committed transaction (the service's metrics count them).
    """

    session: AsyncSession
    events: EventStore
    outbox: Outbox

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        source: str,
        on_commit: Callable[[Sequence[IntegrationEvent]], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._source = source
        self._on_commit = on_commit

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        await self.session.begin()
        self.events = EventStore(self.session)
        self.outbox = Outbox(self.session, self._source)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Commit the transaction."""
        await self.session.commit()
        committed, self.outbox.added = self.outbox.added, []  # a later commit reports only its own
        if self._on_commit is not None:
            self._on_commit(committed)
