"""Where the services keep their data in one benchmark run: a SQLite file each (the embedded
default) or a fresh PostgreSQL database each on the server at `BENCH_POSTGRES_URL` (the production
path), created for the run and dropped after it.

The benchmark reads a few counts itself (unpublished outbox rows, inbox rows) to time the pipeline;
`scalar` runs those on either kind, read-only on SQLite so the services' writers never wait.
"""

import asyncio
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import uuid4

import asyncpg
from sqlalchemy import make_url

Kind = Literal["sqlite", "postgres"]
KINDS: tuple[Kind, ...] = ("sqlite", "postgres")


@dataclass
class Databases:
    """One database per name (`intake`, ..., and `post-cpu` for the single-process measurement)."""

    kind: Kind
    urls: dict[str, str]
    """The SQLAlchemy URL of each database (what a service's `DIVERT_DATABASE_URL` is set to)."""
    _admin_url: str | None = None
    _created: list[str] = field(default_factory=list)
    _pools: dict[str, asyncpg.Pool] = field(default_factory=dict)

    @classmethod
    async def create(cls, kind: Kind, names: tuple[str, ...], *, data_dir: Path, postgres_url: str) -> "Databases":
        """SQLite files under `data_dir`, or a new empty PostgreSQL database for each name."""
        if kind == "sqlite":
            return cls(kind, {name: f"sqlite+aiosqlite:///{data_dir / (name + '.db')}" for name in names})
        admin = make_url(postgres_url)
        plain = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        databases = cls(kind, {}, plain)
        connection = await asyncpg.connect(plain)
        try:
            for name in names:
                database = f"divert_bench_{name.replace('-', '_')}_{uuid4().hex[:8]}"
                await connection.execute(f'CREATE DATABASE "{database}"')
                databases._created.append(database)
                databases.urls[name] = admin.set(drivername="postgresql+asyncpg", database=database).render_as_string(
                    hide_password=False
                )
        finally:
            await connection.close()
        return databases

    async def close(self) -> None:
        """Close the connections `scalar` opened (in the event loop that opened them)."""
        for pool in self._pools.values():
            await pool.close()
        self._pools.clear()

    async def drop(self) -> None:
        """Drop the databases `create` made (PostgreSQL); `close` first."""
        if not self._created or self._admin_url is None:
            return
        connection = await asyncpg.connect(self._admin_url)
        try:
            for database in self._created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await connection.close()
        self._created.clear()

    async def scalar(self, name: str, query: str, *params: Any) -> int:
        """The integer a one-value query gives (placeholders `$1`, `$2`, ... on either kind)."""
        if self.kind == "sqlite":
            return await asyncio.to_thread(_sqlite_scalar, self.urls[name], re.sub(r"\$\d+", "?", query), params)
        if name not in self._pools:
            url = make_url(self.urls[name]).set(drivername="postgresql").render_as_string(hide_password=False)
            self._pools[name] = await asyncpg.create_pool(url, min_size=1, max_size=2)
        return int(await self._pools[name].fetchval(query, *params))


def _sqlite_scalar(url: str, query: str, params: tuple[Any, ...]) -> int:
    database = make_url(url).database
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        return int(connection.execute(query, params).fetchone()[0])
