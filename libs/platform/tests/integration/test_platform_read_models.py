"""Read-model helpers on SQLite and PostgreSQL: UTC instants whatever the database keeps, and
cursor pages that neither skip nor repeat rows, in both directions, with ties on the sort time."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from divert_platform.columns import UtcDateTime
from divert_platform.db import create_engine, create_session_factory
from divert_platform.pagination import InvalidCursor, Order, page

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("thing_id", String(36), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("due", UtcDateTime),
)
NEWEST = Order("newest", (things.c.at, things.c.thing_id), descending=True)
OLDEST = Order("oldest", (things.c.at, things.c.thing_id))
START = datetime(2026, 11, 2, 22, 5, tzinfo=UTC)


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)  # a test table, not a service's schema
    yield engine
    await engine.dispose()


async def test_instants_come_back_in_utc_whatever_zone_they_were_given_in(engine: AsyncEngine) -> None:
    pacific = timezone(timedelta(hours=-8))
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(
            insert(things).values(thing_id="a", at=START.astimezone(pacific), due=START.replace(tzinfo=None))
        )
    async with create_session_factory(engine)() as session:
        row = (await session.execute(select(things))).one()
        found = await session.scalar(select(things.c.thing_id).where(things.c.at == START.astimezone(pacific)))
    assert (row.at, row.at.utcoffset(), row.due) == (START, timedelta(0), START)  # naive in = UTC
    assert found == "a"  # a bound value of another zone compares as the same instant


@pytest.mark.parametrize("order", [NEWEST, OLDEST], ids=["newest first", "oldest first"])
async def test_pages_cover_every_row_once_in_order_with_ties_broken_by_id(engine: AsyncEngine, order: Order) -> None:
    # 7 rows on 4 instants: pages of 2 must split ties across page boundaries.
    rows = [{"thing_id": str(uuid4()), "at": START + timedelta(minutes=i // 2), "due": None} for i in range(7)]
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(insert(things), rows)
    seen: list[str] = []
    cursor = None
    async with create_session_factory(engine)() as session:
        while True:
            items, cursor = await page(session, select(things), order, cursor=cursor, limit=2)
            seen += [item["thing_id"] for item in items]
            if cursor is None:
                break
    expected = sorted(rows, key=lambda row: (row["at"], row["thing_id"]), reverse=order.descending)
    assert seen == [row["thing_id"] for row in expected]


async def test_a_cursor_of_another_order_or_a_forged_one_is_refused(engine: AsyncEngine) -> None:
    rows = [{"thing_id": str(uuid4()), "at": START + timedelta(minutes=i), "due": None} for i in range(3)]
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(insert(things), rows)
    async with create_session_factory(engine)() as session:
        _, cursor = await page(session, select(things), NEWEST, cursor=None, limit=1)
        assert cursor is not None
        for bad in (cursor, "not-a-cursor", "W10", "WyJvbGRlc3QiLCB7fSwgIngiXQ"):
            with pytest.raises(InvalidCursor):
                await page(session, select(things), OLDEST, cursor=bad, limit=1)
