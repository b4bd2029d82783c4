"""The event-sourced repository inside a SQL unit of work, on SQLite and PostgreSQL: events,
read-model projection and outbox rows in one transaction; attribution; concurrency; rollback."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import ReferralWithdrawn
from divert_platform.aggregate import Aggregate, DomainEvent, applies
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.repository import EventSourcedRepository
from divert_platform.schema import events, outbox
from divert_platform.unit_of_work import SqlUnitOfWork


class TicketOpened(DomainEvent):
    ticket_id: UUID


class TicketWithdrawn(DomainEvent):
    ticket_id: UUID


@dataclass
class Ticket(Aggregate[DomainEvent]):
    stream_prefix = "ticket"

    withdrawn: bool = False

    @classmethod
    def open(cls, ticket_id: UUID) -> "Ticket":
        ticket = cls(id=ticket_id)
        ticket._record(TicketOpened(ticket_id=ticket_id))
        return ticket

    def withdraw(self) -> None:
        self._record(TicketWithdrawn(ticket_id=self.id))

    @applies
    def _opened(self, event: TicketOpened) -> None:
        pass

    @applies
    def _withdrawn(self, event: TicketWithdrawn) -> None:
        self.withdrawn = True


projected: list[tuple[str, int, Mapping[str, Any]]] = []


class Tickets(EventSourcedRepository[Ticket]):
    aggregate = Ticket

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        await self._uow.session.execute(select(1))  # in the same transaction as the append
        projected.append((event.name, version, metadata))


class TicketUnitOfWork(SqlUnitOfWork):
    tickets: Tickets

    def _open_repositories(self) -> None:
        self.tickets = Tickets(self)


def withdrawn_contract(event: DomainEvent, ticket: Ticket) -> IntegrationEvent | None:
    if isinstance(event, TicketWithdrawn):
        return ReferralWithdrawn(referral_id=ticket.id, jurisdiction="demo", withdrawn_at=utcnow(), reason="test")
    return None


OFFICER = Cause(actor="officer-7", role="officer", agency="SPD")


def unit(sessions: async_sessionmaker[AsyncSession], committed: list[IntegrationEvent]) -> TicketUnitOfWork:
    uow = TicketUnitOfWork(sessions, "/test", on_commit=committed.extend, to_integration_event=withdrawn_contract)
    uow.cause = OFFICER
    return uow


async def rows(sessions: async_sessionmaker[AsyncSession], table: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(select(table))).all())


async def test_a_save_stores_events_projects_them_and_publishes_on_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    projected.clear()
    committed: list[IntegrationEvent] = []
    ticket_id = uuid4()
    async with unit(sessions, committed) as uow:
        ticket = Ticket.open(ticket_id)
        ticket.withdraw()
        await uow.tickets.save(ticket)
        await uow.commit()
    async with unit(sessions, committed) as uow:
        loaded = await uow.tickets.get(ticket_id)
    assert loaded is not None and (loaded.withdrawn, loaded.version) == (True, 2)
    stored = await rows(sessions, events)
    assert [(e.stream_id, e.stream_version, e.event_type) for e in stored] == [
        (f"ticket-{ticket_id}", 1, "TicketOpened"),
        (f"ticket-{ticket_id}", 2, "TicketWithdrawn"),
    ]
    assert stored[0].metadata == OFFICER.metadata()
    assert [(name, version) for name, version, _ in projected] == [("TicketOpened", 1), ("TicketWithdrawn", 2)]
    [row] = await rows(sessions, outbox)
    assert (row.event_type, row.message_key) == ("org.divert.referral.withdrawn.v1", str(ticket_id))
    assert [type(event) for event in committed] == [ReferralWithdrawn]


async def test_without_commit_nothing_is_stored_or_published(sessions: async_sessionmaker[AsyncSession]) -> None:
    committed: list[IntegrationEvent] = []
    async with unit(sessions, committed) as uow:
        ticket = Ticket.open(uuid4())
        ticket.withdraw()
        await uow.tickets.save(ticket)
    assert (await rows(sessions, events), await rows(sessions, outbox), committed) == ([], [], [])


async def test_explicit_metadata_attributes_a_save_to_another_cause(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ticket_id = uuid4()
    async with unit(sessions, []) as uow:
        await uow.tickets.save(Ticket.open(ticket_id))
        ticket = await uow.tickets.get(ticket_id)
        assert ticket is not None
        ticket.withdraw()
        await uow.tickets.save(ticket, {"actor": "/divert/warrants", "role": "service", "causation_id": "ce-1"})
        await uow.commit()
    stored = await rows(sessions, events)
    assert [e.metadata for e in stored] == [
        OFFICER.metadata(),
        {"actor": "/divert/warrants", "role": "service", "causation_id": "ce-1"},
    ]


async def test_a_stale_aggregate_is_a_conflict(sessions: async_sessionmaker[AsyncSession]) -> None:
    ticket_id = uuid4()
    async with unit(sessions, []) as uow:
        await uow.tickets.save(Ticket.open(ticket_id))
        await uow.commit()
    async with unit(sessions, []) as uow:
        stale = await uow.tickets.get(ticket_id)
    async with unit(sessions, []) as uow:
        fresh = await uow.tickets.get(ticket_id)
        assert fresh is not None
        fresh.withdraw()
        await uow.tickets.save(fresh)
        await uow.commit()
    assert stale is not None
    stale.withdraw()
    async with unit(sessions, []) as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.tickets.save(stale)
