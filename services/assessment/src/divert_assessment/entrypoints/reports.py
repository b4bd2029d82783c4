"""Program reports over REST (docs/domain.md#reporting): counts and rates, never anyone's case."""

from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from divert_assessment.adapters.reports import MAX_MONTHS, Funnel, GroupBy, funnel, funnel_groups, months_of
from divert_assessment.entrypoints.callers import ProgramManager
from divert_assessment.entrypoints.schemas import MAX_COUNT
from divert_contracts.cases import CloseReason
from divert_contracts.timestamps import IsoDateTime
from divert_platform.dependencies import ReadSession
from divert_platform.problems import Forbidden, invalid, problem_responses
from divert_platform.text import JurisdictionId, free_text

MAX_GROUPS = 1000
"""At most this many groups in one funnel (months are capped lower; precincts and versions are few)."""


class Rate(BaseModel):
    """A count and its share of the assessed cases."""

    count: int = Field(ge=0, le=MAX_COUNT)
    percent: float | None = Field(description="Percent of assessed cases, one decimal; null when none were assessed.")


class FunnelCounts(BaseModel):
    """Counts through the case funnel, with their rates (of a whole window, or of one group of it)."""

    referred: int = Field(ge=0, le=MAX_COUNT, description="Cases opened for referrals made in the window.")
    contacted: int = Field(ge=0, le=MAX_COUNT, description="Of those, cases where a first contact was made.")
    median_hours_to_first_contact: float | None = Field(
        description="Median hours from referral to the first contact made; null when none was."
    )
    assessed: int = Field(ge=0, le=MAX_COUNT)
    assessed_on_time: Rate = Field(description="Assessments completed by their due time (or without one).")
    assessed_late: Rate = Field(description="Assessments completed after their due time (`assessed` - on time).")
    enrolled: Rate = Field(description="Participants who enrolled (closed since or not).")
    declined: int = Field(ge=0, le=MAX_COUNT, description="People who chose not to enroll.")
    closed_by_reason: dict[CloseReason, Annotated[int, Field(ge=0, le=MAX_COUNT)]] = Field(
        description="Cases closed now, by reason (every reason listed)."
    )


class FunnelGroup(FunnelCounts):
    """The funnel of the window's cases that share one key."""

    key: Annotated[str, free_text(100)] | None = Field(
        description=(
            "The group's key: `YYYY-MM` (UTC) by month, else the pathway, precinct or policy version; null for "
            "cases without one (no precinct given, or opened before precincts and policy versions were kept)."
        )
    )


class FunnelReport(FunnelCounts):
    """The case funnel for cases referred in `[from, to)`: from referral to enrollment and closure."""

    jurisdiction: JurisdictionId = Field(description="The jurisdiction reported on: the program manager's own.")
    referred_from: datetime = Field(description="Start of the window (inclusive), on `referred_at`, in UTC.")
    referred_to: datetime = Field(description="End of the window (exclusive), in UTC.")
    by: GroupBy | None = Field(None, description="What `groups` are keyed by; null when no breakdown was asked for.")
    groups: list[FunnelGroup] | None = Field(
        None,
        max_length=MAX_GROUPS,
        description=(
            "With `by`: the funnel of each group, counted like the totals (by month every month the window "
            "touches, empty ones included, oldest first; otherwise each key found, null last). Null without `by`."
        ),
    )


def _in_utc(field: str, moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC instant
        raise invalid(field, "the time is out of range once taken to UTC") from error


def utc_window(referred_from: datetime, referred_to: datetime, *, where: str = "query") -> tuple[datetime, datetime]:
    """A report's window `[from, to)` in UTC; 422 naming `<where>.from` or `<where>.to` when it is
    out of range or does not end after it starts."""
    start, end = _in_utc(f"{where}.from", referred_from), _in_utc(f"{where}.to", referred_to)
    if end <= start:
        raise invalid(f"{where}.to", "`to` must be later than `from`")
    return start, end


def _rate(count: int, assessed: int) -> Rate:
    return Rate(count=count, percent=round(100 * count / assessed, 1) if assessed else None)


def _counts(result: Funnel) -> dict[str, Any]:
    return {
        "referred": result.referred,
        "contacted": result.contacted,
        "median_hours_to_first_contact": result.median_hours_to_first_contact,
        "assessed": result.assessed,
        "assessed_on_time": _rate(result.assessed_on_time, result.assessed),
        "assessed_late": _rate(result.assessed_late, result.assessed),
        "enrolled": _rate(result.enrolled, result.assessed),
        "declined": result.declined,
        "closed_by_reason": {reason: result.closed_by_reason.get(reason, 0) for reason in get_args(CloseReason)},
    }


router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(400, 401, 403, 422, 500))


@router.get("/funnel", response_model=FunnelReport, summary="The case funnel")
async def funnel_report(
    referred_from: Annotated[
        IsoDateTime, Query(alias="from", description="Referred at or after (ISO 8601 with its UTC offset).")
    ],
    referred_to: Annotated[IsoDateTime, Query(alias="to", description="Referred before (exclusive).")],
    caller: ProgramManager,
    session: ReadSession,
    jurisdiction: Annotated[
        JurisdictionId | None,
        Query(description="The caller's own jurisdiction (the default); any other is 403."),
    ] = None,
    by: Annotated[
        GroupBy | None,
        Query(
            description="Also break the funnel down by the referral's month (UTC), pathway, precinct or policy version."
        ),
    ] = None,
) -> Any:
    """Of the cases of the caller's jurisdiction referred in `[from, to)`: how many were
    opened, contacted (and the median hours to the first contact), assessed, assessed on
    time, enrolled and declined, and how many are closed, by reason. Rates are percentages of
    the assessed cases. Computed from the read models, over every case of the jurisdiction
    whichever agency owns it. With `by`, `groups` holds the same counts for each month (UTC),
    pathway, precinct or policy version. A window that does not end after it starts is 422
    naming `query.to` (by month, over 120 months is 422 naming `query.by`); a `jurisdiction`
    other than the token's is 403."""
    own = caller.jurisdiction or ""  # `ProgramManager` admits only tokens that name one
    if jurisdiction is not None and jurisdiction != own:
        raise Forbidden(f"a program manager of {own} sees only its own jurisdiction's report")
    start, end = utc_window(referred_from, referred_to)
    groups = None
    if by is not None:
        if by == "month" and len(months_of(start, end)) > MAX_MONTHS:
            raise invalid("query.by", f"a funnel by month covers at most {MAX_MONTHS} months: narrow the window")
        found = await funnel_groups(session, start, end, own, by)
        if len(found) > MAX_GROUPS:  # officers type precincts: a response must stay bounded all the same
            raise invalid("query.by", f"more than {MAX_GROUPS} groups by {by}: narrow the window")
        groups = [FunnelGroup(key=key, **_counts(result)) for key, result in found]
    totals = _counts(await funnel(session, start, end, own))
    return FunnelReport(jurisdiction=own, referred_from=start, referred_to=end, by=by, groups=groups, **totals)
