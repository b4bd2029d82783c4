"""Queries on the `warrant_requests` read model: one request, a referral's, a filtered page.

Each request is shown with the police's own facts from warrants' record of its referral
(`referral_facts`: RMS agency, case number, officer, offense, referral time, policy version and
the due time it set), never anything else of that record and never case content. A request whose
record lacks them (recorded before warrants kept them) shows them as None.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.pagination import Order, page
from divert_warrants.adapters.tables import referral_facts, warrant_requests

OLDEST_FIRST = Order("warrant-requests", (warrant_requests.c.requested_at, warrant_requests.c.warrant_request_id))
"""The list order: oldest request first; ties (one instant) by id."""

_POLICE_FACTS = (
    referral_facts.c.rms_agency,
    referral_facts.c.rms_case_number,
    referral_facts.c.officer_id,
    referral_facts.c.offense_category,
    referral_facts.c.offense_statute,
    referral_facts.c.referred_at,
    referral_facts.c.policy_version,
    referral_facts.c.accepted_due_by.label("originally_due_by"),
)


@dataclass(frozen=True)
class WarrantRequestFilter:
    """Query filters, AND-combined; None means "any"."""

    referral_id: UUID | None = None
    status: str | None = None
    jurisdiction: str | None = None
    kind: str | None = None
    flagged: bool | None = None
    agency: str | None = None
    lapsed_from: datetime | None = None
    lapsed_to: datetime | None = None


def _shown() -> Select[Any]:
    requests = [column for column in warrant_requests.c if column.name != "updated_at"]
    joined = warrant_requests.outerjoin(referral_facts, referral_facts.c.referral_id == warrant_requests.c.referral_id)
    return select(*requests, *_POLICE_FACTS).select_from(joined)


def _conditions(where: WarrantRequestFilter) -> list[ColumnElement[bool]]:
    table = warrant_requests.c
    conditions = [
        column == value
        for column, value in (
            (table.referral_id, str(where.referral_id) if where.referral_id else None),
            (table.status, where.status),
            (table.jurisdiction, where.jurisdiction),
            (table.kind, where.kind),
            (table.flagged, where.flagged),
            (referral_facts.c.rms_agency, where.agency),
        )
        if value is not None
    ]
    if where.lapsed_from is not None:
        conditions.append(table.lapsed_at >= where.lapsed_from)
    if where.lapsed_to is not None:
        conditions.append(table.lapsed_at < where.lapsed_to)
    return conditions


async def find_request(session: AsyncSession, warrant_request_id: UUID) -> dict[str, Any] | None:
    """The read-model view of one request, or None."""
    query = _shown().where(warrant_requests.c.warrant_request_id == str(warrant_request_id))
    row = (await session.execute(query)).first()
    return None if row is None else dict(row._mapping)


async def list_requests(
    session: AsyncSession, where: WarrantRequestFilter, *, cursor: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of requests matching every given filter, oldest first, and the next page's cursor
    (None on the last page). Raises `InvalidCursor` for a cursor this listing did not hand out."""
    return await page(session, _shown().where(*_conditions(where)), OLDEST_FIRST, cursor=cursor, limit=limit)
