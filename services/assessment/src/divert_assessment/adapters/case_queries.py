"""The case list: filtered pages of `cases`, newest referral first or soonest due first."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select

from divert_assessment.adapters.cases import CASE_TIMES, in_utc
from divert_assessment.adapters.tables import cases
from divert_assessment.domain.status import CaseStatus
from divert_platform.clock import as_utc
from divert_platform.unit_of_work import UnitOfWork

_NEWEST, _SOONEST_DUE = "newest", "due"


class InvalidCursor(ValueError):
    """The pagination cursor was not produced by this API (or by another ordering of it)."""


@dataclass(frozen=True)
class CaseFilter:
    """AND-combined filters of the case list within one owning `agency`; None means "any".

    `due_within_days` keeps cases pending assessment due between `now` and `now` plus that many
    days, and orders the list by due time, soonest first (cases already overdue are not "due
    within" anything and are left out).
    """

    agency: str
    status: str | None = None
    jurisdiction: str | None = None
    case_manager_id: str | None = None
    due_within_days: int | None = None


def _encode_cursor(mode: str, moment: datetime, referral_id: str) -> str:
    raw = json.dumps([mode, moment.isoformat(), referral_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, mode: str) -> tuple[datetime, str]:
    try:
        cursor_mode, moment, referral_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if cursor_mode != mode:
            raise ValueError("a cursor of the other ordering")
        return as_utc(datetime.fromisoformat(moment)), str(UUID(referral_id))
    except Exception as error:
        raise InvalidCursor("the cursor is not one this API returned for these filters") from error


def _after(cursor: str | None, mode: str) -> ColumnElement[bool] | None:
    """Rows after the cursor in the list order (ties broken by referral id)."""
    if not cursor:
        return None
    moment, referral_id = _decode_cursor(cursor, mode)
    if mode == _SOONEST_DUE:
        column = cases.c.assessment_due_by
        return or_(column > moment, and_(column == moment, cases.c.referral_id > referral_id))
    column = cases.c.referred_at
    return or_(column < moment, and_(column == moment, cases.c.referral_id < referral_id))


async def list_cases(
    uow: UnitOfWork, where: CaseFilter, now: datetime, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `cases` rows (times in UTC) and the cursor of the next page, or None.

    Raises `InvalidCursor` for a cursor this API did not hand out for the same ordering.
    """
    table = cases.c
    mode = _SOONEST_DUE if where.due_within_days is not None else _NEWEST
    query = select(cases).where(table.agency == where.agency)
    for column, value in (
        (table.status, where.status),
        (table.jurisdiction, where.jurisdiction),
        (table.case_manager_id, where.case_manager_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if (after := _after(cursor, mode)) is not None:
        query = query.where(after)
    if where.due_within_days is not None:
        until = as_utc(now) + timedelta(days=where.due_within_days)
        query = query.where(
            table.status == CaseStatus.PENDING_ASSESSMENT.value,
            table.assessment_due_by >= as_utc(now),
            table.assessment_due_by <= until,
        ).order_by(table.assessment_due_by, table.referral_id)
    else:
        query = query.order_by(table.referred_at.desc(), table.referral_id.desc())
    rows = [in_utc(dict(row._mapping), CASE_TIMES) for row in await uow.session.execute(query.limit(limit + 1))]
    page = rows[:limit]
    if len(rows) <= limit:
        return page, None
    last = page[-1]
    moment = last["assessment_due_by"] if mode == _SOONEST_DUE else last["referred_at"]
    return page, _encode_cursor(mode, moment, last["referral_id"])
