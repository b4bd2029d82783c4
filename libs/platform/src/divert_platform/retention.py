"""Retention: deleting what the platform's tables keep only for a while, in bounded batches.

Each kind of row is kept for its own period (`ServiceSettings.retention_*_days`; docs/operations.md,
"Retention", says why each is as long as it is):

- stored idempotency responses, from when the first request was answered (`created_at`);
- inbox rows, from when the event was applied (`processed_at`);
- outbox rows, from when they were written (`created_at`), and only once published: a row the
  relay has not published yet is never deleted, however old. The period counts from creation, not
  publication, so that re-publishing (`replay`) cannot keep a row, and the copies it sends, alive
  past the inboxes that recognise them;
- audit records of reads, from the read (`at`);
- callback messages once delivered or failed, from when they were written (`created_at`), and
  delivery attempts from when they were made: a message still to be delivered is never deleted.

The event store and read models are the system of record and are never purged here; nor is
anything newer than its period. Every batch is one short transaction of at most `batch_size` rows
(on SQLite a transaction holds the database's write lock, which the API and the consumer wait
for). Counts are logged and counted in `divert.retention.purged`, by table, never anything that
would say whose rows they were.

Run it with `divert-<svc> purge` (once) or `divert-<svc> purge --every 3600` (until stopped), or
call `purge_database` from a supervisor.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from opentelemetry import metrics
from sqlalchemy import Column, ColumnElement, CursorResult, Table, and_, delete, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_platform.audit import audit_log
from divert_platform.callbacks.schema import callback_attempts, callback_messages
from divert_platform.clock import utcnow
from divert_platform.db import create_engine, create_session_factory
from divert_platform.schema import idempotency_keys, inbox, outbox
from divert_platform.settings import ServiceSettings

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
"""Rows deleted per transaction."""

_purged = metrics.get_meter("divert.retention").create_counter(
    "divert.retention.purged", description="Rows deleted because their retention period had passed, by table."
)


@dataclass(frozen=True)
class Retention:
    """How long each kind of row is kept."""

    idempotency: timedelta
    inbox: timedelta
    outbox: timedelta
    audit: timedelta
    callbacks: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "Retention":
        """The periods of `DIVERT_RETENTION_*_DAYS`."""
        return cls(
            idempotency=timedelta(days=settings.retention_idempotency_days),
            inbox=timedelta(days=settings.retention_inbox_days),
            outbox=timedelta(days=settings.retention_outbox_days),
            audit=timedelta(days=settings.retention_audit_days),
            callbacks=timedelta(days=settings.retention_callbacks_days),
        )


@dataclass(frozen=True)
class Expiry:
    """Which rows of `table` are past their period: `age` before the cutoff, and `only` besides."""

    table: Table
    age: Column[datetime]
    period: Callable[[Retention], timedelta]
    only: ColumnElement[bool] | None = None

    def expired(self, cutoff: datetime) -> ColumnElement[bool]:
        """The rows to delete when nothing older than `cutoff` may be kept."""
        older = self.age < cutoff
        return older if self.only is None else and_(older, self.only)


EXPIRIES: tuple[Expiry, ...] = (
    Expiry(idempotency_keys, idempotency_keys.c.created_at, lambda r: r.idempotency),
    Expiry(inbox, inbox.c.processed_at, lambda r: r.inbox),
    Expiry(outbox, outbox.c.created_at, lambda r: r.outbox, only=outbox.c.published_at.is_not(None)),
    Expiry(audit_log, audit_log.c.at, lambda r: r.audit),
    Expiry(
        callback_messages,
        callback_messages.c.created_at,
        lambda r: r.callbacks,
        only=callback_messages.c.status != "pending",
    ),
    Expiry(callback_attempts, callback_attempts.c.attempted_at, lambda r: r.callbacks),
)


async def purge_batch(session: AsyncSession, expiry: Expiry, cutoff: datetime, batch_size: int) -> int:
    """In the caller's transaction, delete up to `batch_size` expired rows of one table; how many.

    The condition is repeated outside the sub-select: on PostgreSQL a row changed meanwhile (an
    outbox row a replay marked unpublished) is checked again as it now is, and kept.
    """
    keys = list(expiry.table.primary_key.columns)
    key = keys[0] if len(keys) == 1 else tuple_(*keys)
    expired = expiry.expired(cutoff)
    batch = select(*keys).where(expired).limit(batch_size)
    result = await session.execute(delete(expiry.table).where(key.in_(batch), expired))
    return cast(CursorResult[Any], result).rowcount


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession],
    retention: Retention,
    *,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    """Delete every row past its period (as of `now`), batch by batch; rows deleted, by table.

    Tables the service does not have are skipped (warrants keeps no audit trail). A set `stop`
    ends the run between batches.
    """
    now = now or utcnow()
    present = await _table_names(sessions)
    purged: dict[str, int] = {}
    for expiry in EXPIRIES:
        name = expiry.table.name
        if name not in present:
            continue
        cutoff = now - expiry.period(retention)
        purged[name] = 0
        while stop is None or not stop.is_set():
            async with sessions() as session, session.begin():
                deleted = await purge_batch(session, expiry, cutoff, batch_size)
            purged[name] += deleted
            if deleted:
                _purged.add(deleted, {"table": name})
            if deleted < batch_size:
                break
    log.info("purged expired rows: %s", ", ".join(f"{name} {count}" for name, count in purged.items()))
    return purged


async def _table_names(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        connection = await session.connection()
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def purge_database(
    database_url: str, retention: Retention, *, batch_size: int = BATCH_SIZE, stop: asyncio.Event | None = None
) -> dict[str, int]:
    """`purge_expired` on the database at `database_url`, with an engine of its own."""
    engine = create_engine(database_url)
    try:
        return await purge_expired(create_session_factory(engine), retention, batch_size=batch_size, stop=stop)
    finally:
        await engine.dispose()


async def run_purge(settings: ServiceSettings, stop: asyncio.Event, *, every: float | None = None) -> None:
    """Purge the service's database once, or with `every` (seconds) again and again until `stop`.

    On a schedule a failed run (the database away) is logged and tried again at the next one; run
    once, it raises, so that a Kubernetes Job counts it failed.
    """
    retention = Retention.from_settings(settings)
    if every is None:
        await purge_database(settings.database_url, retention, stop=stop)
        return
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    try:
        while not stop.is_set():
            try:
                await purge_expired(sessions, retention, stop=stop)
            except Exception:
                log.exception("purging expired rows failed; trying again in %.0fs", every)
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass
    finally:
        await engine.dispose()
