"""Async SQLAlchemy engines for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from divert_platform import sqlite_driver


def create_engine(database_url: str) -> AsyncEngine:
    """Create the engine for `database_url`, configured for several processes sharing a SQLite file.

    SQLite gets WAL, a generous busy timeout and `BEGIN IMMEDIATE` transactions: the API, relay and
    consumer of a service write the same file, and a deferred transaction that later upgrades to a
    write lock fails at once instead of waiting its turn.

    Every SQLite transaction thus holds the file's write lock, so a process gains nothing from a
    second connection: its transactions queue for the one connection instead, in order and without
    delay, where each extra connection would wait in SQLite's busy handler, which sleeps in steps
    of up to 100 ms however soon the lock is free. Since the transaction holds the lock, its
    statements cannot wait for anything, so they run on the event loop; only the `BEGIN IMMEDIATE`
    and the commit go to aiosqlite's thread (`sqlite_driver`).

    `hide_parameters`: a failed statement's error would otherwise quote its bound values (names,
    dates of birth) into the log line or span event that reports it.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    in_a_file = bool(url.database) and url.database != ":memory:"
    if in_a_file:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    one_connection = {"pool_size": 1, "max_overflow": 0} if in_a_file else {}
    database = str(url.database or ":memory:")
    engine = create_async_engine(
        url,
        # Statements inside a transaction run on the event loop, only BEGIN and COMMIT on a thread.
        async_creator=lambda: sqlite_driver.connect(database, timeout=30),
        hide_parameters=True,
        **one_connection,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (handlers return them to callers)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(bind: AsyncEngine | AsyncSession | Any) -> bool:
    """True when the engine (or a session's bind) talks to PostgreSQL."""
    engine = bind.get_bind() if isinstance(bind, AsyncSession) else bind
    return bool(engine.dialect.name == "postgresql")


def upsert_insert(session: AsyncSession) -> Any:
    """The `insert` of the session's dialect, the one with `on_conflict_do_nothing/do_update`."""
    return postgresql.insert if is_postgres(session) else sqlite.insert


async def insert_unless_present(
    session: AsyncSession, table: Table, values: Mapping[str, Any], *, key: Sequence[str] | None = None
) -> bool:
    """Insert a row unless it would repeat the unique `key` (any unique key when None); True when
    it was inserted.

    Unlike catching the unique violation, this leaves the transaction usable without a savepoint
    (PostgreSQL aborts a transaction at its first error), so the caller can go on to read the
    row that was there; and a concurrent inserter of the same key is waited for, not failed.
    """
    statement = _insert_or_skip(is_postgres(session), table, tuple(key) if key is not None else None)
    result = cast(CursorResult[Any], await session.execute(statement, dict(values)))
    return result.rowcount == 1


@cache
def _insert_or_skip(postgres: bool, table: Table, key: tuple[str, ...] | None) -> Any:
    """One `INSERT … ON CONFLICT DO NOTHING` statement per dialect, table and key, its values given
    as parameters: built and cached once instead of on every call."""
    insert = postgresql.insert if postgres else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=key)
