"""The referral-facts repository: one row per referral warrants has heard of.

The row is also the lock that orders a lapse against a late assessment or withdrawal: the API
and the consumer both `lock()` it first, so on PostgreSQL one waits for the other and then sees
what it committed (SQLite's `BEGIN IMMEDIATE` already runs writers one at a time). Without it a
request and a fact committed concurrently could each miss the other: a wrongful warrant.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update

from divert_platform.clock import as_utc, utcnow
from divert_platform.db import insert_unless_present
from divert_platform.unit_of_work import UnitOfWork
from divert_warrants.adapters.tables import referral_facts
from divert_warrants.domain.referral_facts import ReferralFacts


class ReferralFactsRepository:
    """Reads and writes referral facts in the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def lock(self, referral_id: UUID) -> ReferralFacts:
        """The referral's facts, its row created if absent and locked until the transaction ends."""
        session = self._uow.session
        await insert_unless_present(
            session, referral_facts, {"referral_id": str(referral_id), "updated_at": utcnow()}, key=["referral_id"]
        )
        row = (
            await session.execute(
                select(referral_facts).where(referral_facts.c.referral_id == str(referral_id)).with_for_update()
            )
        ).one()
        return ReferralFacts(
            referral_id=referral_id,
            assessment_completed_at=_utc_or_none(row.assessment_completed_at),
            assessment_event_id=row.assessment_event_id,
            withdrawn_at=_utc_or_none(row.withdrawn_at),
            withdrawal_event_id=row.withdrawal_event_id,
        )

    async def save(self, facts: ReferralFacts) -> None:
        """Store the facts of a referral locked with `lock()`."""
        await self._uow.session.execute(
            update(referral_facts)
            .where(referral_facts.c.referral_id == str(facts.referral_id))
            .values(
                assessment_completed_at=_utc_or_none(facts.assessment_completed_at),
                assessment_event_id=facts.assessment_event_id,
                withdrawn_at=_utc_or_none(facts.withdrawn_at),
                withdrawal_event_id=facts.withdrawal_event_id,
                updated_at=utcnow(),
            )
        )


def _utc_or_none(moment: datetime | None) -> datetime | None:
    # SQLite hands datetimes back without their offset; every stored time is UTC.
    return None if moment is None else as_utc(moment)
