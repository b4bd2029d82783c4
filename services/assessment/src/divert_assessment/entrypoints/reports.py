"""Program reports over REST (docs/domain.md#reporting): counts and rates, never anyone's case."""

from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from divert_assessment.adapters.reports import Funnel, funnel
from divert_assessment.entrypoints.callers import ProgramManager
from divert_assessment.entrypoints.schemas import MAX_COUNT
from divert_contracts.cases import CloseReason
from divert_contracts.timestamps import IsoDateTime
from divert_platform.dependencies import ReadSession
from divert_platform.problems import Forbidden, invalid, problem_responses
from divert_platform.text import JurisdictionId


class Rate(BaseModel):
    """A count and its share of the assessed cases."""

    count: int = Field(ge=0, le=MAX_COUNT)
    percent: float | None = Field(description="Percent of assessed cases, one decimal; null when none were assessed.")


class FunnelReport(BaseModel):
    """The case funnel for cases referred in `[from, to)`: from referral to enrollment and closure."""

    jurisdiction: JurisdictionId = Field(description="The jurisdiction reported on: the program manager's own.")
    referred_from: datetime = Field(description="Start of the window (inclusive), on `referred_at`, in UTC.")
    referred_to: datetime = Field(description="End of the window (exclusive), in UTC.")
    referred: int = Field(ge=0, le=MAX_COUNT, description="Cases opened for referrals made in the window.")
    contacted: int = Field(ge=0, le=MAX_COUNT, description="Of those, cases where a first contact was made.")
    median_hours_to_first_contact: float | None = Field(
        description="Median hours from referral to the first contact made; null when none was."
    )
    assessed: int = Field(ge=0, le=MAX_COUNT)
    assessed_on_time: Rate = Field(description="Assessments completed by their due time.")
    enrolled: Rate = Field(description="Participants who enrolled (closed since or not).")
    declined: int = Field(ge=0, le=MAX_COUNT, description="People who chose not to enroll.")
    closed_by_reason: dict[CloseReason, Annotated[int, Field(ge=0, le=MAX_COUNT)]] = Field(
        description="Cases closed now, by reason (every reason listed)."
    )


def _in_utc(field: str, moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC instant
        raise invalid(field, "the time is out of range once taken to UTC") from error


def _rate(count: int, assessed: int) -> Rate:
    return Rate(count=count, percent=round(100 * count / assessed, 1) if assessed else None)


def _report(result: Funnel, jurisdiction: str, referred_from: datetime, referred_to: datetime) -> FunnelReport:
    return FunnelReport(
        jurisdiction=jurisdiction,
        referred_from=referred_from,
        referred_to=referred_to,
        referred=result.referred,
        contacted=result.contacted,
        median_hours_to_first_contact=result.median_hours_to_first_contact,
        assessed=result.assessed,
        assessed_on_time=_rate(result.assessed_on_time, result.assessed),
        enrolled=_rate(result.enrolled, result.assessed),
        declined=result.declined,
        closed_by_reason={reason: result.closed_by_reason.get(reason, 0) for reason in get_args(CloseReason)},
    )


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
) -> Any:
    """Of the cases of the caller's jurisdiction referred in `[from, to)`: how many were
    opened, contacted (and the median hours to the first contact), assessed, assessed on
    time, enrolled and declined, and how many are closed, by reason. Rates are percentages of
    the assessed cases. Computed from the read models, over every case of the jurisdiction
    whichever agency owns it. A window that does not end after it starts is 422 naming
    `query.to`; a `jurisdiction` other than the token's is 403."""
    own = caller.jurisdiction or ""  # `ProgramManager` admits only tokens that name one
    if jurisdiction is not None and jurisdiction != own:
        raise Forbidden(f"a program manager of {own} sees only its own jurisdiction's report")
    start, end = _in_utc("query.from", referred_from), _in_utc("query.to", referred_to)
    if end <= start:
        raise invalid("query.to", "`to` must be later than `from`")
    return _report(await funnel(session, start, end, own), own, start, end)
