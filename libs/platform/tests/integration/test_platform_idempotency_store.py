"""The idempotency store over real SQLite and PostgreSQL: a key keeps its status and ids as a
small JSON object and nothing else, and `keep_only_ids_v1` rewrites the bodies kept before it
(each shape a route ever answered with, page after page), keeping statuses so old keys still guard."""

import asyncio
import json
from pathlib import Path
from uuid import UUID, uuid4

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text

from divert_platform.clock import utcnow
from divert_platform.db import create_engine, create_session_factory
from divert_platform.idempotency import SqlIdempotencyStore, StoredResponse
from divert_platform.schema import idempotency_keys

MIGRATIONS = Path(__file__).parent / "platform_migrations"
NOTE, THING = UUID("6f1c1a52-0d0e-4b9b-9d55-4b1f3c0c1a01"), UUID("0d7c0f51-65a1-4f5e-b2b0-0c1b6cfe7d22")


def _alembic(database_url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


def _row(key: str, response: str, status_code: int = 201) -> dict[str, object]:
    return {
        "scope": "s",
        "key": key,
        "request_hash": "h",
        "status_code": status_code,
        "response": response,
        "created_at": utcnow(),
    }


async def test_a_key_keeps_its_status_and_ids_as_they_were_given(database_url: str) -> None:
    await asyncio.to_thread(_alembic, database_url, "head")
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await SqlIdempotencyStore(session).remember("s", "k", "h", 201, {"note_id": NOTE, "thing_id": THING})
        async with engine.connect() as connection:
            [(status_code, response)] = (
                await connection.execute(text("SELECT status_code, response FROM idempotency_keys"))
            ).all()
        async with create_session_factory(engine)() as session:
            replayed = await SqlIdempotencyStore(session).replay("s", "k", "h")
    finally:
        await engine.dispose()
    assert (status_code, json.loads(response)) == (201, {"note_id": str(NOTE), "thing_id": str(THING)})
    assert replayed == StoredResponse(201, {"note_id": NOTE, "thing_id": THING})


async def test_keep_only_ids_v1_rewrites_every_kept_body_to_its_ids_and_keeps_the_statuses(database_url: str) -> None:
    await asyncio.to_thread(_alembic, database_url, "0002")
    person = {"given_name": "Quillon", "phone": "+12065559123", "needs": ["substance_use_treatment"]}
    before = {
        "note": _row("note", json.dumps({"note_id": str(NOTE), "thing_id": str(THING), **person})),
        "thing": _row("thing", json.dumps({"thing_id": str(THING), "subject": person}), status_code=200),
        "bad-note-id": _row("bad-note-id", json.dumps({"note_id": "Quillon", "thing_id": str(THING)})),
        "already-ids": _row("already-ids", json.dumps({"note_id": str(NOTE)})),
        "no-id": _row("no-id", json.dumps(person), status_code=202),
        "a-list": _row("a-list", json.dumps([person])),
        "not-json": _row("not-json", "Quillon +12065559123"),
    }
    many = {f"many-{i:04}": uuid4() for i in range(1_100)}  # more than two pages of the migration
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(idempotency_keys), list(before.values()))
            await connection.execute(
                insert(idempotency_keys),
                [_row(key, json.dumps({"note_id": str(note), **person})) for key, note in many.items()],
            )

        await asyncio.to_thread(_alembic, database_url, "0003")

        async with engine.connect() as connection:
            rows = (await connection.execute(select(idempotency_keys))).all()
    finally:
        await engine.dispose()
    after = {row.key: (row.status_code, row.request_hash, json.loads(row.response)) for row in rows}
    assert {key: after[key] for key in before} == {
        "note": (201, "h", {"note_id": str(NOTE)}),
        "thing": (200, "h", {"thing_id": str(THING)}),
        "bad-note-id": (201, "h", {"thing_id": str(THING)}),
        "already-ids": (201, "h", {"note_id": str(NOTE)}),
        "no-id": (202, "h", {}),
        "a-list": (201, "h", {}),
        "not-json": (201, "h", {}),
    }
    assert {key: after[key] for key in many} == {key: (201, "h", {"note_id": str(note)}) for key, note in many.items()}
    assert "Quillon" not in json.dumps(after) and "12065559123" not in json.dumps(after)
