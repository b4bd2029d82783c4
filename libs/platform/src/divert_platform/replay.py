"""Re-publishing the outbox, on an operator's command or when the broker has lost a topic.

Published outbox rows are kept for `DIVERT_RETENTION_OUTBOX_DAYS` (unpublished ones until they are
published; `divert_platform.retention`), so a service can publish that period's events again:
marking rows unpublished makes the running relay send them once more, in their original order.
Consumers de-duplicate by `(ce_source, ce_id)`, so an event a consumer already applied is skipped.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_platform.schema import outbox


async def mark_unpublished(session: AsyncSession, *, since: datetime | None = None, topic: str | None = None) -> int:
    """In the caller's transaction, mark published rows (created at/after `since`, of `topic`) unpublished.

    Returns how many rows were marked. Naive `since` values are taken to be UTC.
    """
    statement = update(outbox).where(outbox.c.published_at.is_not(None)).values(published_at=None)
    if since is not None:
        statement = statement.where(outbox.c.created_at >= since)
    if topic is not None:
        statement = statement.where(outbox.c.topic == topic)
    result = await session.execute(statement)
    return cast(CursorResult[Any], result).rowcount


async def replay_outbox(
    sessions: async_sessionmaker[AsyncSession], *, since: datetime | None = None, topic: str | None = None
) -> int:
    """Mark the outbox's published rows (optionally only since `since`, only of `topic`) for re-publishing.

    The service's running relay re-publishes them in order. Returns how many rows were marked.
    """
    async with sessions() as session, session.begin():
        return await mark_unpublished(session, since=since, topic=topic)


async def published_counts(session: AsyncSession, topics: list[str] | None = None) -> dict[str, int]:
    """How many outbox rows have been published to each topic (all topics, or only `topics`)."""
    statement = select(outbox.c.topic, func.count()).where(outbox.c.published_at.is_not(None)).group_by(outbox.c.topic)
    if topics is not None:
        statement = statement.where(outbox.c.topic.in_(topics))
    return {topic: count for topic, count in (await session.execute(statement)).all()}


def lost_topics(published: Mapping[str, int], end_totals: Mapping[str, int]) -> list[str]:
    """The topics that hold fewer records than were published to them: the broker lost them.

    A partition's log end offset never goes down (retention drops old records but keeps offsets),
    so a topic whose offsets add up to less than the rows published to it is a new topic under the
    old name. Read `published` before `end_totals`: rows published in between then only raise the
    offsets, never cause a false alarm. More records than rows (re-sends, other producers) is fine.
    """
    return sorted(topic for topic, count in published.items() if end_totals.get(topic, 0) < count)
