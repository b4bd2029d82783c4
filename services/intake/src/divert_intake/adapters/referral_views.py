"""Queries on the police status view: one referral, its jurisdiction, a filtered page."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_intake.adapters.tables import referral_status
from divert_platform.pagination import Order, page

NEWEST_FIRST = Order("referrals", (referral_status.c.referred_at, referral_status.c.referral_id), descending=True)
"""The list order: newest referral first; ties (one instant) by id."""


@dataclass(frozen=True)
class ReferralFilter:
    """AND-combined filters of the referral list; None means "any"."""

    agency: str | None = None
    case_number: str | None = None
    jurisdiction: str | None = None
    pathway: str | None = None
    status: str | None = None
    referred_from: datetime | None = None
    referred_to: datetime | None = None


async def find_status(session: AsyncSession, referral_id: UUID) -> dict[str, Any] | None:
    """The status row of one referral, or None."""
    query = select(referral_status).where(referral_status.c.referral_id == str(referral_id))
    row = (await session.execute(query)).first()
    return None if row is None else dict(row._mapping)


async def find_jurisdiction(session: AsyncSession, referral_id: str) -> str | None:
    """The jurisdiction of a referral, or None when there is no such referral."""
    return await session.scalar(
        select(referral_status.c.jurisdiction).where(referral_status.c.referral_id == referral_id)
    )


def _conditions(where: ReferralFilter) -> list[ColumnElement[bool]]:
    table = referral_status.c
    conditions = [
        column == value
        for column, value in (
            (table.agency, where.agency),
            (table.case_number, where.case_number),
            (table.jurisdiction, where.jurisdiction),
            (table.pathway, where.pathway),
            (table.status, where.status),
        )
        if value is not None
    ]
    if where.referred_from is not None:
        conditions.append(table.referred_at >= where.referred_from)
    if where.referred_to is not None:
        conditions.append(table.referred_at < where.referred_to)
    return conditions


async def list_statuses(
    session: AsyncSession,
    where: ReferralFilter,
    *,
    scope: ReferralFilter | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of status rows, newest referral first, and the cursor of the next page (or None).

    `where` is what the caller asked for; `scope` is what the caller may see. Both apply, so a
    filter naming something out of scope finds nothing rather than something it should not.
    Raises `InvalidCursor` for a cursor this listing did not hand out.
    """
    query = select(referral_status).where(*_conditions(where), *_conditions(scope or ReferralFilter()))
    return await page(session, query, NEWEST_FIRST, cursor=cursor, limit=limit)


SOONEST_DUE = Order("approvals", (referral_status.c.approval_due_by, referral_status.c.referral_id))
"""The approval queue's order: the referral whose policy rule applies soonest first."""


async def list_awaiting_approval(
    session: AsyncSession, approver: str, *, jurisdiction: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the referrals waiting for `approver` (a role) in `jurisdiction` (every one when
    None), soonest due first, and the next page's cursor. Raises `InvalidCursor`."""
    table = referral_status.c
    query = select(referral_status).where(table.status == "pending_approval", table.approval_by == approver)
    if jurisdiction is not None:
        query = query.where(table.jurisdiction == jurisdiction)
    return await page(session, query, SOONEST_DUE, cursor=cursor, limit=limit)
