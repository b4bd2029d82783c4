"""The inbox re-keyed by topic (`key_inbox_by_topic_v2`): rows survive the migration both ways,
and afterwards the same event id under another source is a duplicate, under another topic not."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from divert_platform.clock import utcnow
from divert_platform.db import create_engine
from divert_platform.schema import inbox

MIGRATIONS = Path(__file__).parent / "platform_migrations"
EVENT = "6f1c1a52-0d0e-4b9b-9d55-4b1f3c0c1a01"


def _alembic(database_url: str, direction: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    getattr(command, direction)(config, revision)


def _row(**values: object) -> dict[str, object]:
    return {
        "consumer": "g",
        "source": "/divert/intake",
        "event_id": EVENT,
        "topic": "divert.referrals",
        "partition": 0,
        "offset": 7,
        "processed_at": utcnow(),
    } | values


async def test_inbox_rows_survive_the_re_key_and_a_new_source_is_no_new_event(database_url: str) -> None:
    await asyncio.to_thread(_alembic, database_url, "upgrade", "0001")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:  # the v1 key let one event in under two sources
            await connection.execute(
                text(
                    'INSERT INTO inbox (consumer, source, event_id, topic, partition, "offset", processed_at) '
                    "VALUES (:consumer, :source, :event_id, :topic, :partition, :offset, :processed_at)"
                ),
                [_row(), _row(source="/divert/forged", offset=9)],
            )
        await asyncio.to_thread(_alembic, database_url, "upgrade", "0002")
        async with engine.begin() as connection:
            rows = (await connection.execute(select(inbox.c.source, inbox.c.offset))).all()
            assert [tuple(row) for row in rows] == [("/divert/forged", 7)]  # one row: each column's least
            try:
                async with connection.begin_nested():
                    await connection.execute(insert(inbox), _row(source="/divert/other"))
                raise AssertionError("the same event on the same topic under another source was stored twice")
            except IntegrityError:
                pass
            await connection.execute(insert(inbox), _row(topic="divert.cases"))
        await asyncio.to_thread(_alembic, database_url, "downgrade", "0001")
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM inbox"))
        assert count == 2  # the two topics' rows name two sources: two keys again
    finally:
        await engine.dispose()
