"""Queries on the case-agency view: one case, its consents and history, and the case list (filtered
pages of `cases`, newest referral first or soonest due first). Row mappings, times in UTC."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.tables import cases, consents
from divert_assessment.domain.case import Case
from divert_assessment.domain.status import CaseStatus
from divert_platform.event_store import EventStore, RecordedEvent
from divert_platform.pagination import Order, page

NEWEST_REFERRAL = Order("newest", (cases.c.referred_at, cases.c.referral_id), descending=True)
SOONEST_DUE = Order("due", (cases.c.assessment_due_by, cases.c.referral_id))


@dataclass(frozen=True)
class CaseFilter:
    """AND-combined filters of the case list within one owning `agency`; None means "any".

    `due_within_days` keeps cases pending assessment due between `now` and `now` plus that many
    days, and orders the list by due time, soonest first (cases already overdue are not "due
    within" anything and are left out). `due_soon=True` keeps the cases whose agency was reminded
    of their current due time and that await assessment, also soonest due first; `False` the others.
    """

    agency: str
    status: str | None = None
    jurisdiction: str | None = None
    case_manager_id: str | None = None
    due_within_days: int | None = None
    due_soon: bool | None = None


async def list_cases(
    session: AsyncSession, where: CaseFilter, now: datetime, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `cases` rows and the cursor of the next page, or None.

    Raises `InvalidCursor` for a cursor this API did not hand out for the same ordering.
    """
    table = cases.c
    query = select(cases).where(table.agency == where.agency)
    for column, value in (
        (table.status, where.status),
        (table.jurisdiction, where.jurisdiction),
        (table.case_manager_id, where.case_manager_id),
        (table.due_soon, where.due_soon),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.due_within_days is not None:
        query = query.where(
            table.status == CaseStatus.PENDING_ASSESSMENT.value,
            table.assessment_due_by >= now,
            table.assessment_due_by <= now + timedelta(days=where.due_within_days),
        )
    elif not where.due_soon:
        return await page(session, query, NEWEST_REFERRAL, cursor=cursor, limit=limit)
    # a case due soon always has a due time (a reminder names it), so every key of this order is set
    return await page(session, query, SOONEST_DUE, cursor=cursor, limit=limit)


async def find_case(session: AsyncSession, referral_id: UUID, *, agency: str | None) -> dict[str, Any] | None:
    """The case-agency view of one case, or None when there is no such case or another agency owns
    it. A case without an owning agency is no agency's."""
    if agency is None:
        return None
    query = select(cases).where(cases.c.referral_id == str(referral_id), cases.c.agency == agency)
    row = (await session.execute(query)).first()
    return dict(row._mapping) if row else None


async def find_consents(session: AsyncSession, referral_id: UUID) -> list[dict[str, Any]]:
    """Every consent recorded on a case, oldest first."""
    rows = await session.execute(
        select(consents)
        .where(consents.c.referral_id == str(referral_id))
        .order_by(consents.c.recorded_at, consents.c.consent_id)
    )
    return [dict(row._mapping) for row in rows]


async def find_consent(session: AsyncSession, consent_id: UUID) -> dict[str, Any] | None:
    """One consent, or None."""
    row = (await session.execute(select(consents).where(consents.c.consent_id == str(consent_id)))).first()
    return dict(row._mapping) if row else None


async def case_history(session: AsyncSession, referral_id: UUID) -> list[RecordedEvent]:
    """The case's stored events, oldest first, with who recorded each and when."""
    return await EventStore(session).read(Case.stream_id(referral_id))


async def jurisdiction_of(session: AsyncSession, referral_id: str) -> str | None:
    """The jurisdiction of the case opened for `referral_id`, whichever agency owns it, or None."""
    return await session.scalar(select(cases.c.jurisdiction).where(cases.c.referral_id == referral_id))
