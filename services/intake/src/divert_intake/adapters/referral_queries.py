"""Queries on the police status view: one referral, an RMS case, a filtered page."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select

from divert_intake.adapters.tables import referral_status
from divert_platform.clock import as_utc
from divert_platform.unit_of_work import UnitOfWork

_TIMES = ("referred_at", "assessment_due_by", "updated_at")


class InvalidCursor(ValueError):
    """The pagination cursor was not produced by this API."""


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


def _row_view(row: Any) -> dict[str, Any]:
    view = dict(row._mapping)
    for column in _TIMES:
        if view[column] is not None:
            view[column] = as_utc(view[column])
    return view


async def find_status(uow: UnitOfWork, referral_id: UUID) -> dict[str, Any] | None:
    """The status row of one referral, or None."""
    row = (
        await uow.session.execute(select(referral_status).where(referral_status.c.referral_id == str(referral_id)))
    ).first()
    return _row_view(row) if row else None


async def find_jurisdiction(uow: UnitOfWork, referral_id: str) -> str | None:
    """The jurisdiction of a referral, or None when there is no such referral."""
    return await uow.session.scalar(
        select(referral_status.c.jurisdiction).where(referral_status.c.referral_id == referral_id)
    )


def encode_cursor(row: dict[str, Any]) -> str:
    """An opaque cursor pointing just after `row` in the list order."""
    raw = json.dumps([row["referred_at"].isoformat(), row["referral_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        referred_at, referral_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return as_utc(datetime.fromisoformat(referred_at)), str(UUID(referral_id))
    except Exception as error:
        raise InvalidCursor("the cursor is not one this API returned") from error


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
        conditions.append(table.referred_at >= as_utc(where.referred_from))
    if where.referred_to is not None:
        conditions.append(table.referred_at < as_utc(where.referred_to))
    return conditions


async def list_statuses(
    uow: UnitOfWork,
    where: ReferralFilter,
    *,
    scope: ReferralFilter | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of status rows, newest referral first, and the cursor of the next page (or None).

    `where` is what the caller asked for; `scope` is what the caller may see. Both apply, so a
    filter naming something out of scope finds nothing rather than something it should not.
    """
    table = referral_status.c
    query = select(referral_status).where(*_conditions(where), *_conditions(scope or ReferralFilter()))
    if cursor:
        after_at, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(table.referred_at < after_at, and_(table.referred_at == after_at, table.referral_id < after_id))
        )
    query = query.order_by(table.referred_at.desc(), table.referral_id.desc()).limit(limit + 1)
    rows = [_row_view(row) for row in await uow.session.execute(query)]
    page, more = rows[:limit], len(rows) > limit
    return page, encode_cursor(page[-1]) if more else None
