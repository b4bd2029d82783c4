"""The SQLite connection that runs a transaction's statements on the event loop (`sqlite_driver`).

Each engine here is what a service process opens (`db.create_engine`); two engines on one file
are two processes sharing it, as a service's API and consumer do in the split layout.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from divert_platform.db import create_engine


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    await engine.dispose()
    yield url


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every call that went through aiosqlite's thread, in order."""
    calls: list[str] = []
    through_the_thread = aiosqlite.Connection._execute

    async def recorded(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0].split()[0] if args and isinstance(args[0], str) else fn.__name__)
        return await through_the_thread(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", recorded)
    return calls


async def count_notes(engine: AsyncEngine) -> int:
    async with engine.begin() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_unit_of_work_hands_only_its_begin_and_commit_to_the_thread(
    database: str, thread_calls: list[str]
) -> None:
    engine = create_engine(database)
    await count_notes(engine)  # connect first: opening the connection runs its PRAGMAs on the thread
    thread_calls.clear()

    async with engine.begin() as connection:
        for number in range(5):
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (:id, 'x')"), {"id": number})
        stored = (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one()

    assert stored == 5
    assert thread_calls == ["BEGIN", "commit"]
    await engine.dispose()


async def test_waiting_for_another_process_s_write_lock_leaves_the_event_loop_free(database: str) -> None:
    holder, waiter = create_engine(database), create_engine(database)
    ticks = 0

    async def write_after_the_holder() -> None:
        async with waiter.begin() as connection:
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (2, 'second')"))

    async with holder.begin() as connection:
        await connection.execute(text("INSERT INTO notes (id, body) VALUES (1, 'first')"))
        waiting = asyncio.create_task(write_after_the_holder())
        for _ in range(10):  # the waiter's BEGIN IMMEDIATE sits in SQLite's busy handler meanwhile
            await asyncio.sleep(0.02)
            ticks += 1
        assert not waiting.done()
    await waiting

    assert ticks == 10
    assert await count_notes(holder) == 2
    await holder.dispose()
    await waiter.dispose()


async def test_a_failed_statement_raises_and_the_rollback_leaves_the_connection_usable(
    database: str, thread_calls: list[str]
) -> None:
    engine = create_engine(database)
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (1, 'kept?')"))
            await connection.execute(text("INSERT INTO notes (id, body) VALUES (1, 'again')"))

    assert "rollback" in thread_calls  # undoing a write goes through the thread, like a commit
    assert await count_notes(engine) == 0  # the first insert was rolled back with the transaction
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (id, body) VALUES (1, 'now')"))
    assert await count_notes(engine) == 1
    await engine.dispose()


async def test_a_commit_issued_as_a_statement_still_goes_through_the_thread(
    database: str, thread_calls: list[str]
) -> None:
    engine = create_engine(database)
    async with engine.connect() as connection:  # its first statement begins (BEGIN IMMEDIATE)
        await connection.exec_driver_sql("INSERT INTO notes (id, body) VALUES (1, 'by hand')")
        await connection.exec_driver_sql("COMMIT")

    assert [call for call in thread_calls if call in ("BEGIN", "INSERT", "COMMIT")] == ["BEGIN", "COMMIT"]
    assert await count_notes(engine) == 1
    await engine.dispose()
