"""An aiosqlite connection that hands only the waiting to its thread, not every statement.

aiosqlite runs each call (a cursor, an `execute`, a `fetchall`, a cursor's `close`) on a thread of
its own and wakes the event loop when it is done: about four hand-offs per statement, which were
the largest share of a SQLite service's CPU (docs/performance.md). Only two kinds of call can
wait, though: taking the file's write lock (`BEGIN IMMEDIATE`, which may sit in SQLite's busy
handler while another process writes) and the commit (which syncs the log to disk). Once this
connection's own transaction holds the lock, its statements read and write pages and return in
microseconds, so they run where they are called, on the event loop.

A unit of work thus costs two hand-offs, its `BEGIN` and its `COMMIT` (or `ROLLBACK`), however
many statements it runs. The durability is SQLite's, unchanged.
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite

_ENDS_A_TRANSACTION = ("COMMIT", "END", "ROLLBACK")
"""Statements that sync or undo the log (issued by hand, rather than by `commit()`): they wait."""


class LockHeldConnection(aiosqlite.Connection):
    """An `aiosqlite.Connection` whose calls inside its open transaction run on the caller's loop.

    A call goes to the connection's thread, as in aiosqlite, when it may wait: a statement or fetch
    with no transaction open (the `BEGIN IMMEDIATE` itself, anything in autocommit mode), a commit,
    a rollback of an open transaction, a statement that ends one, and anything else aiosqlite
    offers. A new cursor, a cursor's `close`, and a rollback with nothing to undo never wait. Calls never
    overlap: SQLAlchemy awaits each before the next on a connection, so the sqlite3 connection is
    used by one thread at a time (it is opened with `check_same_thread=False` for that reason).
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._runs_here(fn, args):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)

    def _runs_here(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        connection: sqlite3.Connection | None = self._connection
        if not self._running or connection is None:
            return False
        owner, name = getattr(fn, "__self__", None), getattr(fn, "__name__", "")
        if isinstance(owner, sqlite3.Connection):
            # A new cursor waits for nothing; nor does a rollback with no transaction to undo (the
            # pool's reset of a connection coming back from a committed unit of work).
            return name == "cursor" or (name == "rollback" and not connection.in_transaction)
        if not isinstance(owner, sqlite3.Cursor):
            return False
        if name == "close":
            return True
        if not connection.in_transaction:
            return False
        if name in ("execute", "executemany"):
            return not str(args[0]).lstrip().upper().startswith(_ENDS_A_TRANSACTION)
        return name in ("fetchone", "fetchmany", "fetchall")


def connect(database: str | Path, **kwargs: Any) -> LockHeldConnection:
    """Open `database` as `aiosqlite.connect` does, returning a `LockHeldConnection` (awaitable)."""
    location = str(database)

    def connector() -> sqlite3.Connection:
        opened: sqlite3.Connection = sqlite3.connect(location, check_same_thread=False, **kwargs)
        return opened

    connection = LockHeldConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect sets it
    return connection
