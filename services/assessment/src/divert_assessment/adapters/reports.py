"""Program reports from the read models (docs/domain.md#reporting), in SQL both SQLite and PostgreSQL run."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.tables import cases
from divert_assessment.domain.status import CaseStatus

SECONDS_PER_HOUR = 3600
GroupBy = Literal["month", "pathway", "precinct", "policy_version"]
"""What a funnel's groups may be keyed by: the referral's month (UTC), pathway, precinct or policy version."""
MAX_MONTHS = 120
"""At most this many months in a funnel by month (ten years)."""


@dataclass(frozen=True)
class Funnel:
    """Counts through the case funnel for the cases referred in a window."""

    referred: int
    contacted: int
    median_hours_to_first_contact: float | None
    assessed: int
    assessed_on_time: int
    assessed_late: int
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
    return (await _funnels(session, referred_from, referred_to, jurisdiction, None)).get(None) or _EMPTY


async def funnel_groups(
    session: AsyncSession, referred_from: datetime, referred_to: datetime, jurisdiction: str | None, by: GroupBy
) -> list[tuple[str | None, Funnel]]:
    """The funnel of the same cases split by `by`, each group counted exactly as `funnel` counts.

    By month, each calendar month (UTC) the window touches is a group, empty ones included, each
    the funnel of its part of the window; by another key only the keys found are groups, null (a
    case opened before precincts and policy versions were kept, or a referral without a precinct)
    last.
    """
    if by == "month":
        return [
            (month, await funnel(session, start, end, jurisdiction))
            for month, start, end in months_of(referred_from, referred_to)
        ]
    found = await _funnels(session, referred_from, referred_to, jurisdiction, getattr(cases.c, by))
    return sorted(found.items(), key=lambda item: (item[0] is None, item[0] or ""))


def months_of(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """Each calendar month (UTC) that `[start, end)` touches: its key (`YYYY-MM`) and its part of the window."""
    months = []
    cursor = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor < end:
        following = cursor.replace(year=cursor.year + cursor.month // 12, month=cursor.month % 12 + 1)
        months.append((f"{cursor:%Y-%m}", max(start, cursor), min(end, following)))
        cursor = following
    return months


async def _funnels(
    session: AsyncSession,
    referred_from: datetime,
    referred_to: datetime,
    jurisdiction: str | None,
    key: Any,
) -> dict[Any, Funnel]:
    """The funnel by `key` (a column), or of all the window's cases under the key None."""
    c = cases.c
    window = [c.referred_at >= referred_from, c.referred_at < referred_to]
    if jurisdiction is not None:
        window.append(c.jurisdiction == jurisdiction)
    keys = [key] if key is not None else []
    totals = await session.execute(
        select(
            *keys,
            func.count(),
            func.count(c.first_contact_at),
            func.count(c.completed_at),
            _count_where(c.assessed_on_time.is_(True)),
            _count_where(c.assessed_on_time.is_(False)),
            func.count(c.enrolled_at),
            func.count(c.declined_reason),
        )
        .where(*window)
        .group_by(*keys)
    )
    closed = await session.execute(
        select(*keys, c.close_reason, func.count())
        .where(*window, c.status == CaseStatus.CLOSED.value)
        .group_by(*keys, c.close_reason)
        .order_by(*keys, c.close_reason)
    )
    contacts = await session.execute(
        select(*keys, c.referred_at, c.first_contact_at).where(*window, c.first_contact_at.is_not(None))
    )
    closed_by: dict[Any, dict[str, int]] = defaultdict(dict)
    for row in closed:
        *group, reason, count = row
        closed_by[group[0] if keys else None][reason] = count
    hours: dict[Any, list[float]] = defaultdict(list)
    for row in contacts:
        *group, referred, first = row
        hours[group[0] if keys else None].append((first - referred).total_seconds() / SECONDS_PER_HOUR)
    found = {}
    for row in totals:
        *group, referred, contacted, assessed, on_time, late, enrolled, declined = row
        name = group[0] if keys else None
        if not referred:
            continue  # the one row of an ungrouped count over no case
        found[name] = Funnel(
            referred=referred,
            contacted=contacted,
            median_hours_to_first_contact=round(median(hours[name]), 2) if hours[name] else None,
            assessed=assessed,
            assessed_on_time=on_time,
            assessed_late=late,
            enrolled=enrolled,
            declined=declined,
            closed_by_reason=closed_by[name],
        )
    return found


_EMPTY = Funnel(
    referred=0,
    contacted=0,
    median_hours_to_first_contact=None,
    assessed=0,
    assessed_on_time=0,
    assessed_late=0,
    enrolled=0,
    declined=0,
    closed_by_reason={},
)
