"""The benchmark's databases: a SQLite file or a fresh PostgreSQL database per service, and the
counts it reads from them to time the pipeline."""

import os
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from bench.databases import Databases
from divert_platform.testing import POSTGRES_ENV

OUTBOX = "CREATE TABLE outbox (id INTEGER PRIMARY KEY, published_at TEXT)"
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL AND id > $1"


async def test_sqlite_databases_are_files_under_the_data_dir_read_without_writing(tmp_path: Path) -> None:
    databases = await Databases.create("sqlite", ("intake", "post-cpu"), data_dir=tmp_path, postgres_url="unused")
    assert databases.urls == {
        "intake": f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
        "post-cpu": f"sqlite+aiosqlite:///{tmp_path / 'post-cpu.db'}",
    }
    with sqlite3.connect(tmp_path / "intake.db") as db:
        db.execute(OUTBOX)
        db.executemany("INSERT INTO outbox VALUES (?, ?)", [(1, None), (2, None), (3, "2026-12-07")])
    assert await databases.scalar("intake", UNPUBLISHED, 1) == 1
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await databases.scalar("intake", "DELETE FROM outbox RETURNING 1")
    await databases.close()
    await databases.drop()
    assert (tmp_path / "intake.db").exists()  # the run's data directory goes with the run


async def test_postgres_databases_are_created_empty_counted_and_dropped(tmp_path: Path) -> None:
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: the PostgreSQL tier runs in CI (.ci/run) or when you set it")
    databases = await Databases.create("postgres", ("intake", "post-cpu"), data_dir=tmp_path, postgres_url=server)
    names = [make_url(url).database for url in databases.urls.values()]
    assert all(url.startswith("postgresql+asyncpg://") for url in databases.urls.values())
    assert len(set(names)) == 2
    plain = make_url(databases.urls["intake"]).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(OUTBOX.replace("INTEGER PRIMARY KEY", "integer PRIMARY KEY"))
        await connection.executemany("INSERT INTO outbox VALUES ($1, $2)", [(1, None), (2, None), (3, "2026-12-07")])
    finally:
        await connection.close()
    assert await databases.scalar("intake", UNPUBLISHED, 1) == 1
    await databases.close()
    await databases.drop()
    admin = await asyncpg.connect(make_url(server).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        left = await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = ANY($1::text[])", names)
    finally:
        await admin.close()
    assert left == 0
