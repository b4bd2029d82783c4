"""Program reports from the police status view (docs/domain.md#reporting), in SQL both SQLite and
PostgreSQL run: the rows of a window's referrals, and the open assessment deadlines."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_intake.adapters.tables import referral_status
from divert_intake.domain.reporting import DeclineKind, ReferralOutcome
from divert_platform.pagination import Order, page

_c = referral_status.c
REPORTED = (
    _c.referred_at,
    _c.pathway,
    _c.status,
    _c.precinct,
    _c.policy_version,
    _c.accepted_at,
    _c.decline_kind,
    _c.case_opened_at,
    _c.assessed_on_time,
    _c.enrolled,
    _c.closed,
    _c.lapsed_at,
    _c.warrant_requested_at,
    _c.warrant_rescinded_at,
)
"""The columns a report reads: milestones and grouping keys, nothing that names a person or case."""


def outcome_of(row: Row[Any]) -> ReferralOutcome:
    """A referral's outcome from its reported columns."""
    declined = row.status == "declined"
    assessed = row.assessed_on_time is not None
    return ReferralOutcome(
        referred_at=row.referred_at,
        pathway=row.pathway,
        status=row.status,
        precinct=row.precinct,
        policy_version=row.policy_version,
        accepted=row.accepted_at is not None,
        # The migration gives every declined row its kind; a rule decided one with none left.
        decline=DeclineKind(row.decline_kind or DeclineKind.INELIGIBLE) if declined else None,
        # A later milestone implies the opening (openings were not kept before intake's 0009).
        case_opened=row.case_opened_at is not None or assessed or row.enrolled or row.closed,
        assessed_on_time=row.assessed_on_time,
        enrolled=row.enrolled,
        closed=row.closed,
        lapsed=row.lapsed_at is not None,
        warrant_requested=row.warrant_requested_at is not None,
        warrant_rescinded=row.warrant_rescinded_at is not None,
    )


async def outcomes(
    session: AsyncSession, jurisdiction: str, referred_from: datetime, referred_to: datetime
) -> list[ReferralOutcome]:
    """The outcome of each referral of `jurisdiction` made in `[referred_from, referred_to)`.

    Rows are grouped in Python (`domain.reporting.tally`), not in SQL: a month in the
    jurisdiction's time zone has no expression SQLite and PostgreSQL share, and one code path is
    easier to keep right than two. A row is a few narrow columns: a year of a busy program's
    referrals is a few megabytes.
    """
    query: Select[Any] = select(*REPORTED).where(
        _c.jurisdiction == jurisdiction, _c.referred_at >= referred_from, _c.referred_at < referred_to
    )
    return [outcome_of(row) for row in await session.execute(query)]


DUE_SOONEST = Order("deadlines", (_c.assessment_due_by, _c.referral_id))
"""The deadlines report's order: the assessment due soonest first; ties (one instant) by id."""

OPEN_STATUS = "accepted"
"""A referral whose assessment is still awaited: accepted and neither assessed, lapsed nor withdrawn."""


async def open_deadlines(
    session: AsyncSession, jurisdiction: str, due_before: datetime, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `jurisdiction`'s referrals awaiting an assessment due before `due_before`
    (overdue ones whose lapse is not recorded yet included), soonest first, and the next page's
    cursor. Raises `InvalidCursor`."""
    query = select(
        _c.referral_id, _c.pathway, _c.precinct, _c.agency, _c.assessment_due_by, _c.status, _c.jurisdiction
    ).where(
        _c.jurisdiction == jurisdiction,
        _c.status == OPEN_STATUS,
        _c.closed.is_(False),
        _c.assessment_due_by.is_not(None),
        _c.assessment_due_by < due_before,
    )
    return await page(session, query, DUE_SOONEST, cursor=cursor, limit=limit)
