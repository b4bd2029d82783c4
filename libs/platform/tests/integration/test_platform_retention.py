"""Retention on a real database (SQLite and PostgreSQL): what `purge` deletes, what it keeps, and
the command that runs it; and the `retention.ms` of dead-letter topics on the real broker."""

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.topics import Topic
from divert_platform.audit import audit_log
from divert_platform.callbacks import schema as callback_schema
from divert_platform.clock import utcnow
from divert_platform.db import create_engine, create_session_factory
from divert_platform.kafka import ensure_topics
from divert_platform.retention import Retention, purge_expired
from divert_platform.schema import idempotency_keys, inbox, metadata, outbox
from divert_platform.settings import ServiceSettings
from divert_platform.testing import metric_value, migrate

MIGRATIONS = Path(__file__).parent / "platform_migrations"
DAY = timedelta(days=1)
NOW = utcnow()
SHORT = Retention(idempotency=2 * DAY, inbox=30 * DAY, outbox=20 * DAY, audit=400 * DAY, callbacks=10 * DAY)


async def with_audit_table(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Give the database the audit trail intake, assessment and the directory have (warrants has none)."""
    async with sessions() as session:
        connection = await session.connection()
        await connection.run_sync(lambda sync: metadata.create_all(sync, tables=[audit_log]))
        await session.commit()


def idempotency_row(at: datetime) -> dict[str, Any]:
    key = uuid4().hex
    return {"scope": "s", "key": key, "request_hash": "h", "status_code": 201, "response": "{}", "created_at": at}


def inbox_row(at: datetime) -> dict[str, Any]:
    return {
        "consumer": "divert-test",
        "topic": "divert.referrals",
        "event_id": str(uuid4()),
        "source": "/divert/intake",
        "partition": 0,
        "offset": 0,
        "processed_at": at,
    }


def outbox_row(created: datetime, published: datetime | None) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "topic": "divert.referrals",
        "message_key": "k",
        "event_type": "referral.withdrawn.v1",
        "source": "/divert/intake",
        "subject": "s",
        "occurred_at": created,
        "data": {},
        "created_at": created,
        "published_at": published,
    }


def audit_row(at: datetime) -> dict[str, Any]:
    return {"at": at, "actor": "cm-1", "role": "case_manager", "action": "read", "resource": "case"}


async def add(sessions: async_sessionmaker[AsyncSession], table: Table, rows: list[dict[str, Any]]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(insert(table), rows)


async def remaining(sessions: async_sessionmaker[AsyncSession], table: Table, column: str) -> set[Any]:
    async with sessions() as session:
        return set((await session.scalars(select(table.c[column]))).all())


async def test_rows_past_their_period_are_purged_and_newer_ones_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await with_audit_table(sessions)
    old, new = {}, {}
    for table, period, row in (
        (idempotency_keys, SHORT.idempotency, idempotency_row),
        (inbox, SHORT.inbox, inbox_row),
        (audit_log, SHORT.audit, audit_row),
    ):
        old[table.name] = row(NOW - period - timedelta(minutes=1))
        new[table.name] = row(NOW - period + timedelta(minutes=1))
        await add(sessions, table, [old[table.name], new[table.name]])
    ancient = NOW - 10 * SHORT.outbox
    outbox_rows = {
        "published long ago": outbox_row(ancient, ancient),
        "never published": outbox_row(ancient, None),  # the relay has yet to send it: kept, however old
        "re-published today": outbox_row(ancient, NOW),  # counted from creation: a replay keeps nothing alive
        "published, inside its period": outbox_row(NOW - SHORT.outbox + timedelta(minutes=1), NOW - DAY),
    }
    await add(sessions, outbox, list(outbox_rows.values()))

    purged = await purge_expired(sessions, SHORT, now=NOW)

    assert purged == {"idempotency_keys": 1, "inbox": 1, "outbox": 2, "audit_log": 1}
    assert await remaining(sessions, idempotency_keys, "key") == {new["idempotency_keys"]["key"]}
    assert await remaining(sessions, inbox, "event_id") == {new["inbox"]["event_id"]}
    assert await remaining(sessions, audit_log, "at") == {new["audit_log"]["at"]}
    kept = {outbox_rows[what]["event_id"] for what in ("never published", "published, inside its period")}
    assert await remaining(sessions, outbox, "event_id") == kept
    assert await purge_expired(sessions, SHORT, now=NOW) == dict.fromkeys(purged, 0)  # nothing left to do


def callback_message(created: datetime, status: str) -> dict[str, Any]:
    return {
        "message_id": f"msg_{uuid4().hex}",
        "endpoint_id": str(uuid4()),
        "event_id": str(uuid4()),
        "event_type": "referral.accepted",
        "subject": str(uuid4()),
        "sequence": 1,
        "payload": {},
        "created_at": created,
        "status": status,
        "attempts": 1,
    }


async def test_callback_messages_are_purged_once_settled_and_past_their_period(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        connection = await session.connection()
        await connection.run_sync(lambda sync: callback_schema.metadata.create_all(sync))
        await session.commit()
    old, recent = NOW - SHORT.callbacks - timedelta(minutes=1), NOW - SHORT.callbacks + timedelta(minutes=1)
    messages = {
        "delivered long ago": callback_message(old, "delivered"),
        "failed long ago": callback_message(old, "failed"),
        "still pending, however old": callback_message(old, "pending"),  # a held (disabled endpoint) message
        "delivered recently": callback_message(recent, "delivered"),
    }
    await add(sessions, callback_schema.callback_messages, list(messages.values()))
    attempt = {"message_id": "m", "duration_ms": 1, "outcome": "delivered"}
    await add(
        sessions,
        callback_schema.callback_attempts,
        [{**attempt, "attempted_at": old}, {**attempt, "attempted_at": recent}],
    )

    purged = await purge_expired(sessions, SHORT, now=NOW)

    assert purged["callback_messages"] == 2 and purged["callback_attempts"] == 1
    kept = {messages[what]["message_id"] for what in ("still pending, however old", "delivered recently")}
    assert await remaining(sessions, callback_schema.callback_messages, "message_id") == kept
    assert await remaining(sessions, callback_schema.callback_attempts, "attempted_at") == {recent}


async def test_large_backlogs_go_in_bounded_batches_and_are_counted(
    sessions: async_sessionmaker[AsyncSession], metric_reader: InMemoryMetricReader
) -> None:
    before = metric_value(metric_reader, "divert.retention.purged", table="inbox")
    await add(sessions, inbox, [inbox_row(NOW - SHORT.inbox - DAY) for _ in range(7)])
    await add(sessions, inbox, [inbox_row(NOW - DAY)])

    purged = await purge_expired(sessions, SHORT, now=NOW, batch_size=3)  # batches of 3, 3 and 1

    assert purged["inbox"] == 7
    assert len(await remaining(sessions, inbox, "event_id")) == 1
    assert metric_value(metric_reader, "divert.retention.purged", table="inbox") - before == 7
    assert "audit_log" not in purged  # this database has no audit trail, like warrants'


async def test_a_stopped_purge_ends_between_batches(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add(sessions, inbox, [inbox_row(NOW - SHORT.inbox - DAY) for _ in range(4)])
    stop = asyncio.Event()
    stop.set()

    purged = await purge_expired(sessions, SHORT, now=NOW, batch_size=2, stop=stop)

    assert purged["inbox"] == 0
    assert len(await remaining(sessions, inbox, "event_id")) == 4


# ---------------------------------------------------------------- the command

CLI = """
import sys
from pathlib import Path
from divert_platform.cli import build_cli
from divert_platform.settings import ServiceSettings
app = build_cli(
    help="retention test", settings_type=ServiceSettings, migrations=Path(sys.argv[1]), api_factory="x:y", roles={}
)
app(sys.argv[2:], prog_name="divert-test")
"""


def command_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DIVERT_", "OTEL_"))}
    return {**env, "DIVERT_DATABASE_URL": database_url, "DIVERT_DATA_DIR": str(data_dir)}


async def purge_command(*args: str, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLI,
        str(MIGRATIONS),
        "purge",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


async def expired_and_kept_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """One inbox row past the default period (180 days) and one inside it; their event ids."""
    settings = ServiceSettings()
    expired = inbox_row(NOW - timedelta(days=settings.retention_inbox_days + 1))
    kept = inbox_row(NOW - timedelta(days=settings.retention_inbox_days - 1))
    await add(sessions, inbox, [expired, kept])
    return expired["event_id"], kept["event_id"]


async def test_the_purge_command_runs_once_and_exits(database_url: str, tmp_path: Path) -> None:
    await migrate(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        _, kept = await expired_and_kept_rows(sessions)

        process = await purge_command(env=command_env(database_url, tmp_path))
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

        assert process.returncode == 0, stderr.decode()
        assert await remaining(sessions, inbox, "event_id") == {kept}
        assert b"purged expired rows: idempotency_keys 0, inbox 1, outbox 0" in stderr  # counts, nothing else
    finally:
        await engine.dispose()


async def test_the_purge_command_with_every_keeps_running_until_sigterm(database_url: str, tmp_path: Path) -> None:
    await migrate(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    process = None
    try:
        _, kept = await expired_and_kept_rows(sessions)

        process = await purge_command("--every", "3600", env=command_env(database_url, tmp_path))
        assert process.stderr is not None
        async with asyncio.timeout(60):  # its first run comes at once, and logs what it purged
            while b"purged expired rows" not in (line := await process.stderr.readline()):
                assert line, "it exited before purging"
        assert await remaining(sessions, inbox, "event_id") == {kept}
        assert process.returncode is None, "it exited instead of waiting for its next run"

        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

        assert process.returncode == 0, stderr.decode()
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        await engine.dispose()


# ---------------------------------------------------------------- dead letters on the broker


async def topic_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    finally:
        await admin.close()
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, _, _, name, entries in response.resources:
            assert error_code == 0, name
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def test_dead_letter_topics_are_created_with_their_retention(kafka_bootstrap: str) -> None:
    topic = Topic(f"divert.retention-test-{uuid4().hex[:8]}", 1)
    thirty_days = ServiceSettings().dead_letter_retention_ms

    created = await ensure_topics(kafka_bootstrap, [topic], dead_letter_retention_ms=thirty_days)

    assert set(created) == {topic.name, topic.dead_letter.name}
    configs = await topic_configs(kafka_bootstrap, [topic.name, topic.dead_letter.name])
    assert configs[topic.dead_letter.name].get("retention.ms") == str(30 * 24 * 60 * 60 * 1000)
    # The event topic keeps the brokers' own retention (DIVERT_RETENTION_TOPIC_DAYS says what it is).
    assert configs[topic.name].get("retention.ms") != str(thirty_days)
