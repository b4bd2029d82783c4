"""Queries on the `warrant_requests` read model: one request, a referral's, a filtered list."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_warrants.adapters.tables import warrant_requests


@dataclass(frozen=True)
class WarrantRequestFilter:
    """Query filters, AND-combined; None means "any"."""

    referral_id: UUID | None = None
    status: str | None = None
    jurisdiction: str | None = None
    kind: str | None = None
    flagged: bool | None = None
    limit: int = 100


def _view(row: Row[Any]) -> dict[str, Any]:
    view = dict(row._mapping)
    view.pop("updated_at")
    return view


async def find_request(session: AsyncSession, warrant_request_id: UUID) -> dict[str, Any] | None:
    """The read-model view of one request, or None."""
    query = select(warrant_requests).where(warrant_requests.c.warrant_request_id == str(warrant_request_id))
    row = (await session.execute(query)).first()
    return None if row is None else _view(row)


async def list_requests(session: AsyncSession, where: WarrantRequestFilter) -> list[dict[str, Any]]:
    """Requests matching every given filter, oldest first."""
    table = warrant_requests.c
    query = select(warrant_requests)
    for column, value in (
        (table.referral_id, str(where.referral_id) if where.referral_id else None),
        (table.status, where.status),
        (table.jurisdiction, where.jurisdiction),
        (table.kind, where.kind),
        (table.flagged, where.flagged),
    ):
        if value is not None:
            query = query.where(column == value)
    # The id breaks ties so two requests recorded in the same instant keep a stable order.
    query = query.order_by(table.requested_at, table.warrant_request_id).limit(where.limit)
    return [_view(row) for row in await session.execute(query)]
