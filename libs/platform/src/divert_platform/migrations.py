"""Alembic, run programmatically: `divert-<svc> migrate` applies a service's migrations under a
database lock, once per deploy; every other process only checks that they were applied.

Migrating is the only thing that needs a role allowed to change the schema, so the service's
processes can run as a role that may only read and write rows (docs/deployment.md, "Database
migrations and roles").
"""

import asyncio
import fcntl
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import async_engine_from_config, create_async_engine

log = logging.getLogger(__name__)


def upgrade_to_head(database_url: str, script_location: Path) -> None:
    """Bring the database at `database_url` to the newest revision (a no-op when it is there).

    Safe to run several at once: the migrations run under the service's migration lock (see
    `run_migrations_in_env`), so a second run waits for the first and then finds nothing to do.
    Synchronous and starting its own event loop: call it before the service's loop starts, or
    through `asyncio.to_thread` from inside one.
    """
    command.upgrade(_config(database_url, script_location), "head")


def run_migrations_in_env() -> None:
    """Body of every service's `migrations/env.py`: online migrations over an async engine.

    The migrations run under a lock that concurrent runs of the same service's migrations wait
    for: on PostgreSQL a session advisory lock taken on the migration connection, keyed by the
    service (`migration_lock_key`); on SQLite an exclusive lock on a file beside the database
    (`migration_lock_file`). The revision the database is at is read only once the lock is held.
    """
    config = context.config
    url = make_url(config.get_main_option("sqlalchemy.url") or "")
    key = migration_lock_key(config.get_main_option("script_location") or "")

    def _migrate(connection: Connection) -> None:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()  # leave Alembic a connection outside a transaction, as it expects
        try:
            context.configure(connection=connection, target_metadata=None, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if postgres:  # closing the connection would release it too; this says when
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()

    async def _run() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
        await engine.dispose()

    with _sqlite_lock(url):
        asyncio.run(_run())


def migration_lock_key(script_location: Path | str) -> int:
    """The PostgreSQL advisory-lock key of a service's migrations: derived from the package that
    holds them (`divert_warrants` for `.../divert_warrants/migrations`), stable across processes
    and releases, and distinct from the relays' lock."""
    service = Path(script_location).parent.name
    digest = hashlib.blake2b(f"divert:migrate:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def migration_lock_file(database: Path) -> Path:
    """The file beside a SQLite database that its migrations hold an exclusive lock on."""
    return database.with_name(database.name + ".migrate-lock")


@dataclass(frozen=True)
class SchemaRevision:
    """Where a database stands against a release's migrations."""

    current: tuple[str, ...]
    """Revisions the database is at; empty when it was never migrated."""
    expected: tuple[str, ...]
    """The release's head revisions."""
    unknown: tuple[str, ...]
    """Revisions of the database that the release does not know: a later release migrated it."""

    @property
    def usable(self) -> bool:
        """At the release's head, or ahead of it: a later release's migrations only expand the
        schema (docs/deployment.md, "Upgrading without downtime"), so the old code still runs."""
        return set(self.current) == set(self.expected) or bool(self.unknown)


class SchemaBehind(RuntimeError):
    """The database was never migrated, or is at an older revision than the release expects."""


def schema_revision(database_url: str, script_location: Path) -> SchemaRevision:
    """Read the database's revision (Alembic's version table) and the release's head.

    Reads only: needs no more than SELECT on the version table, and a SQLite file that does not
    exist is not created.
    """
    script = ScriptDirectory.from_config(_config(database_url, script_location))
    expected = tuple(script.get_heads())
    current = asyncio.run(_current_heads(database_url))
    unknown = tuple(revision for revision in current if not _known(script, revision))
    return SchemaRevision(current=current, expected=expected, unknown=unknown)


def require_head(database_url: str, script_location: Path, *, migrate_command: str) -> SchemaRevision:
    """Refuse (`SchemaBehind`, one line naming both revisions and `migrate_command`) to run on a
    database whose migrations were not applied; a database ahead of the release passes, with a
    warning."""
    revision = schema_revision(database_url, script_location)
    if not revision.usable:
        raise SchemaBehind(
            f"the database is at revision {_names(revision.current)}, this release expects "
            f"{_names(revision.expected)}: run `{migrate_command}` first"
        )
    if revision.unknown:
        log.warning(
            "the database is at revision %s, which this release does not know (it expects %s): "
            "running on the assumption that a later release's migrations only added to the schema",
            _names(revision.current),
            _names(revision.expected),
        )
    return revision


def _names(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "none (never migrated)"


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError is one
        return False


async def _current_heads(database_url: str) -> tuple[str, ...]:
    url = make_url(database_url)
    database = _sqlite_file(url)
    if database is not None and not database.exists():
        return ()
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
    finally:
        await engine.dispose()


def _config(database_url: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@contextmanager
def _sqlite_lock(url: URL) -> Iterator[None]:
    """Hold the exclusive lock of a SQLite database's migrations (nothing for other databases).

    A file lock rather than `BEGIN EXCLUSIVE`: Alembic's SQLite migrations manage their own
    transactions, and the lock must cover reading the revision as well as every migration.
    """
    database = _sqlite_file(url)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with migration_lock_file(database).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, or the process ends
        yield
