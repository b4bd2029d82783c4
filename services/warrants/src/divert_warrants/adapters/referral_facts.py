"""The referral-facts repository: warrants' own record, one row per referral it has heard of.

The row is also the lock that orders a lapse against a late assessment or withdrawal: the API
and the consumer both `lock()` it first, so on PostgreSQL one waits for the other and then sees
what it committed (SQLite's `BEGIN IMMEDIATE` already runs writers one at a time). Without it a
request and a fact committed concurrently could each miss the other: a wrongful warrant.
"""

from dataclasses import fields
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.clock import utcnow
from divert_platform.db import insert_unless_present
from divert_warrants.adapters.tables import referral_facts
from divert_warrants.domain.referral_facts import ReferralFacts

# Every fact is a column of the same name (standing, instants and event ids: see tables.py).
_KEPT = tuple(field.name for field in fields(ReferralFacts) if field.name != "referral_id")


class SqlReferralFacts:
    """Reads and writes referral facts in the unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, referral_id: UUID) -> ReferralFacts:
        """The referral's facts, its row created if absent and locked until the transaction ends."""
        session = self._session
        await insert_unless_present(
            session, referral_facts, {"referral_id": str(referral_id), "updated_at": utcnow()}, key=["referral_id"]
        )
        row = (
            await session.execute(
                select(referral_facts).where(referral_facts.c.referral_id == str(referral_id)).with_for_update()
            )
        ).one()
        return ReferralFacts(referral_id=referral_id, **{name: getattr(row, name) for name in _KEPT})

    async def save(self, facts: ReferralFacts) -> None:
        """Store the facts of a referral locked with `lock()`."""
        await self._session.execute(
            update(referral_facts)
            .where(referral_facts.c.referral_id == str(facts.referral_id))
            .values(**{name: getattr(facts, name) for name in _KEPT}, updated_at=utcnow())
        )
