"""The service-referral report's read (docs/domain.md#the-evaluation-extract): a jurisdiction's
service referrals made in a window, a page at a time, with the dates of their status history."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.referral_tables import service_referral_history, service_referrals
from divert_directory.domain.evaluation import PROTECTED_NEEDS
from divert_platform.pagination import Order, page

OLDEST_MADE = Order("service-referral-report", (service_referrals.c.made_at, service_referrals.c.service_referral_id))
"""The report's order: oldest service referral first, then by id (unique, so pages never split ties)."""

_COLUMNS = (
    service_referrals.c.referral_id,
    service_referrals.c.service_referral_id,
    service_referrals.c.need,
    service_referrals.c.part2,
    service_referrals.c.service_id,
    service_referrals.c.organization_id,
    service_referrals.c.status,
    service_referrals.c.made_at,
    service_referrals.c.updated_at,
)
"""What the report reads of a service referral: never its consent, nor who made or moved it."""


def _shown_to_evaluators() -> ColumnElement[bool]:
    # `evaluation.shown_to_evaluators` in SQL, so that a page holds `limit` rows that may be shown
    # (filtering after paging would give short pages and cursors past withheld rows).
    return and_(service_referrals.c.part2 == false(), service_referrals.c.need.not_in(list(PROTECTED_NEEDS)))


async def service_referrals_made(
    session: AsyncSession,
    jurisdiction: str,
    made_from: datetime,
    made_to: datetime,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the jurisdiction's service referrals made in `[made_from, made_to)` that the
    report may show, oldest first, each with its `history` (`status`, `reason`, `at`, oldest step
    first), and the next page's cursor (None on the last). Raises `InvalidCursor`."""
    query = select(*_COLUMNS).where(
        service_referrals.c.jurisdiction == jurisdiction,
        service_referrals.c.made_at >= made_from,
        service_referrals.c.made_at < made_to,
        _shown_to_evaluators(),
    )
    rows, next_cursor = await page(session, query, OLDEST_MADE, cursor=cursor, limit=limit)
    histories = await _histories(session, [row["service_referral_id"] for row in rows])
    for row in rows:
        row["history"] = histories[row["service_referral_id"]]
    return rows, next_cursor


async def _histories(session: AsyncSession, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    h = service_referral_history.c
    steps = await session.execute(
        select(h.service_referral_id, h.status, h.reason, h.at)
        .where(h.service_referral_id.in_(ids))
        .order_by(h.service_referral_id, h.sequence)
    )
    for step in steps:
        found[step.service_referral_id].append({"status": step.status, "reason": step.reason, "at": step.at})
    return found
