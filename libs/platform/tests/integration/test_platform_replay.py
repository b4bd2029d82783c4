"""Marking outbox rows for re-publishing, by hand and when the relay finds a lost topic (no broker:
the topic offsets are a fake), on SQLite and PostgreSQL."""

from collections.abc import Collection
from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.cases import CaseOpened
from divert_contracts.referrals import ReferralWithdrawn
from divert_platform.clock import utcnow
from divert_platform.relay import OutboxRelay
from divert_platform.replay import replay_outbox
from divert_platform.schema import outbox
from divert_platform.unit_of_work import SqlUnitOfWork

REFERRALS, CASES = ReferralWithdrawn.topic, CaseOpened.topic


class FakeOffsets:
    """Topic end offsets as a broker would report them, and the relay's marker on it."""

    def __init__(self, totals: dict[str, int], *, marker: bool = False) -> None:
        self.totals = totals
        self.marker = marker

    async def end_totals(self, topics: Collection[str]) -> dict[str, int]:
        return {topic: self.totals.get(topic, 0) for topic in topics}

    async def broker_forgot(self, topic: str) -> bool:
        return not self.marker

    async def remember(self, topic: str) -> None:
        self.marker = True


async def write_published(sessions: async_sessionmaker[AsyncSession], topic: str, count: int) -> None:
    """Commit `count` events of `topic` to the outbox and mark them published."""
    async with SqlUnitOfWork(sessions, "/divert/replay-test") as uow:
        for _ in range(count):
            if topic == REFERRALS:
                event = ReferralWithdrawn(referral_id=uuid4(), jurisdiction="demo", withdrawn_at=utcnow(), reason="x")
            else:
                event = case_opened()
            await uow.outbox.add(event)
        await uow.commit()
    async with sessions() as session, session.begin():
        await session.execute(update(outbox).where(outbox.c.published_at.is_(None)).values(published_at=utcnow()))


def case_opened() -> CaseOpened:
    return CaseOpened(
        referral_id=uuid4(), jurisdiction="demo", pathway="social_contact", opened_at=utcnow(), assessment_due_by=None
    )


async def unpublished(sessions: async_sessionmaker[AsyncSession], topic: str | None = None) -> int:
    statement = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    if topic is not None:
        statement = statement.where(outbox.c.topic == topic)
    async with sessions() as session:
        return await session.scalar(statement) or 0


async def test_replay_marks_published_rows_since_a_time_and_of_a_topic(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write_published(sessions, REFERRALS, 2)
    since = utcnow()
    await write_published(sessions, REFERRALS, 3)
    await write_published(sessions, CASES, 1)

    assert await replay_outbox(sessions, since=since + timedelta(hours=1)) == 0
    assert await replay_outbox(sessions, since=since, topic=CASES) == 1
    assert await replay_outbox(sessions, since=since) == 3  # the cases row is unpublished already
    assert await unpublished(sessions, REFERRALS) == 3
    assert await replay_outbox(sessions) == 2
    assert await unpublished(sessions) == 6


async def test_the_relay_republishes_only_the_topics_the_broker_lost_and_only_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write_published(sessions, REFERRALS, 4)
    await write_published(sessions, CASES, 2)
    offsets = FakeOffsets({REFERRALS: 1, CASES: 2})  # referrals came back with one new record
    ensured: list[bool] = []

    async def ensure_topics() -> None:
        ensured.append(True)

    relay = OutboxRelay(sessions, None, topic_offsets=offsets, ensure_topics=ensure_topics)

    assert await relay.recover_lost_topics() == {REFERRALS: 4}
    assert ensured and offsets.marker  # the marker is set again once the rows are marked
    assert await unpublished(sessions, REFERRALS) == 4
    assert await unpublished(sessions, CASES) == 0
    assert await relay.recover_lost_topics() == {}  # nothing counts as published to it any more


async def test_short_end_offsets_are_no_loss_while_the_broker_remembers_the_relay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Tansu reports end offsets short of the real end right after batched sends.
    await write_published(sessions, REFERRALS, 4)
    offsets = FakeOffsets({REFERRALS: 1}, marker=True)
    relay = OutboxRelay(sessions, None, topic_offsets=offsets)

    assert await relay.recover_lost_topics() == {}
    assert await unpublished(sessions) == 0
    offsets.marker = False  # the broker restarted and forgot everything: now it is a loss
    assert await relay.recover_lost_topics() == {REFERRALS: 4}


async def test_without_topic_offsets_the_relay_only_re_creates_topics(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write_published(sessions, REFERRALS, 1)
    ensured: list[bool] = []

    async def ensure_topics() -> None:
        ensured.append(True)

    relay = OutboxRelay(sessions, None, ensure_topics=ensure_topics)
    assert await relay.recover_lost_topics(ensure_first=True) == {}
    assert ensured == [True]
    assert await unpublished(sessions) == 0
