"""Program reports from the read models (docs/domain.md#reporting), in SQL both SQLite and PostgreSQL run."""

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.tables import cases
from divert_assessment.domain.status import CaseStatus

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Funnel:
    """Counts through the case funnel for the cases referred in a window."""

    referred: int
    contacted: int
    median_hours_to_first_contact: float | None
    assessed: int
    assessed_on_time: int
    enrolled: int
    declined: int
    closed_by_reason: dict[str, int]


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


async def funnel(
    session: AsyncSession, referred_from: datetime, referred_to: datetime, jurisdiction: str | None
) -> Funnel:
    """The funnel of cases referred in `[referred_from, referred_to)`, in one jurisdiction or all.

    Enrolled and declined count what happened, even on cases closed since; `closed_by_reason`
    counts cases closed now. The median is taken in Python: SQLite has no median, and
    PostgreSQL's `percentile_cont` would be a second code path to keep equal to it.
    """
    c = cases.c
    window = [c.referred_at >= referred_from, c.referred_at < referred_to]
    if jurisdiction is not None:
        window.append(c.jurisdiction == jurisdiction)
    totals = (
        await session.execute(
            select(
                func.count(),
                func.count(c.first_contact_at),
                func.count(c.completed_at),
                _count_where(c.assessed_on_time.is_(True)),
                func.count(c.enrolled_at),
                func.count(c.declined_reason),
            ).where(*window)
        )
    ).one()
    closed = await session.execute(
        select(c.close_reason, func.count())
        .where(*window, c.status == CaseStatus.CLOSED.value)
        .group_by(c.close_reason)
        .order_by(c.close_reason)
    )
    contacts = await session.execute(
        select(c.referred_at, c.first_contact_at).where(*window, c.first_contact_at.is_not(None))
    )
    hours = [(first - referred).total_seconds() / SECONDS_PER_HOUR for referred, first in contacts]
    referred, contacted, assessed, on_time, enrolled, declined = totals
    return Funnel(
        referred=referred,
        contacted=contacted,
        median_hours_to_first_contact=round(median(hours), 2) if hours else None,
        assessed=assessed,
        assessed_on_time=on_time,
        enrolled=enrolled,
        declined=declined,
        closed_by_reason={reason: count for reason, count in closed},
    )
