"""The event store on SQLite and PostgreSQL: ordered streams, optimistic concurrency."""

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_platform.event_store import ConcurrencyConflict, EventStore, NewEvent
from divert_platform.unit_of_work import SqlUnitOfWork


async def test_a_stream_reads_back_in_order_with_versions(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        store = EventStore(session)
        await store.append("s-1", 0, [NewEvent("A", {"n": 1}), NewEvent("B", {"n": 2})], {"actor": "t"})
        await store.append("s-1", 2, [NewEvent("C", {"n": 3})], {"actor": "t"})
    async with sessions() as session:
        stored = await EventStore(session).read("s-1")
        assert await EventStore(session).version("s-1") == 3
    assert [(e.stream_version, e.event_type, e.data["n"]) for e in stored] == [(1, "A", 1), (2, "B", 2), (3, "C", 3)]
    assert stored[0].position < stored[1].position < stored[2].position
    assert stored[0].metadata == {"actor": "t"}


async def test_appending_at_a_stale_version_is_a_conflict(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await EventStore(session).append("s-2", 0, [NewEvent("A", {})], {})
    async with sessions() as session, session.begin():
        with pytest.raises(ConcurrencyConflict):
            await EventStore(session).append("s-2", 0, [NewEvent("A-again", {})], {})
    async with sessions() as session:
        assert [e.event_type for e in await EventStore(session).read("s-2")] == ["A"]


async def test_two_concurrent_writers_of_one_version_one_wins(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def write(label: str) -> str:
        async with SqlUnitOfWork(sessions, "/test") as uow:
            try:
                await uow.events.append("s-3", 0, [NewEvent(label, {})], {})
                await uow.commit()
                return "won"
            except ConcurrencyConflict:
                return "conflict"
            except Exception as error:  # PostgreSQL may also report the loser at commit
                return f"conflict:{type(error).__name__}"

    results = await asyncio.gather(write("first"), write("second"))
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "won"]
    async with sessions() as session:
        assert len(await EventStore(session).read("s-3")) == 1


async def test_leaving_a_unit_of_work_without_commit_keeps_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with SqlUnitOfWork(sessions, "/test") as uow:
        await uow.events.append("s-4", 0, [NewEvent("A", {})], {})
    async with sessions() as session:
        assert await EventStore(session).read("s-4") == []
