"""Alembic, run programmatically: each service's migrations are applied at start-up."""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_engine_from_config


def upgrade_to_head(database_url: str, script_location: Path) -> None:
    """Bring the database at `database_url` to the newest revision (a no-op when it is there).

    Synchronous and starting its own event loop: call it before the service's loop starts, or
    through `asyncio.to_thread` from inside one.
    """
    if database_url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(database_url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def run_migrations_in_env() -> None:
    """Body of every service's `migrations/env.py`: online migrations over an async engine."""
    config = context.config

    def _migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=None, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def _run() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
        await engine.dispose()

    asyncio.run(_run())
