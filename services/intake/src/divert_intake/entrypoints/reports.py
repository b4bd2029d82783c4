"""Program reports over REST (docs/domain.md#reporting): the referral funnel as counts and rates, and
the assessments due soon. Program managers, their own jurisdiction; never anyone's person or case."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDateTime
from divert_intake.adapters.reports import open_deadlines, outcomes
from divert_intake.bootstrap import Parts
from divert_intake.domain.reporting import Counts, DeclineKind, GroupBy, Rate, days_left, rates, tally
from divert_intake.entrypoints.callers import ProgramManager
from divert_intake.entrypoints.schemas import MAX_PAGE, Status
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.dependencies import ReadSession
from divert_platform.pagination import Cursor
from divert_platform.problems import Forbidden, invalid, problem_responses
from divert_platform.text import JurisdictionId, free_text

MAX_COUNT = 2**31 - 1
MAX_GROUPS = 10_000
"""More groups than any program has months, pathways, precincts or policy versions."""
MAX_WITHIN_DAYS = 90
MAX_OVERDUE_DAYS = 1_000_000
"""Bounds any overdue count (a lapse is normally recorded within moments of the due time)."""
MAX_KEY = 100
"""A group's key: the longest is a precinct (100 characters)."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class DeclinedCounts(BaseModel):
    """Declined referrals by how they came to be declined (every kind listed, 0 included)."""

    ineligible: Count = Field(description="Declined at once: the jurisdiction's rules found the person ineligible.")
    approval_denied: Count = Field(description="Declined at the approval gate by the policy's approver.")
    approval_timed_out: Count = Field(
        description="Declined at the approval gate because nobody decided in time and the policy declines then."
    )


class FunnelCounts(BaseModel):
    """Where the referrals of a row stand now (each referral counted in every stage it reached)."""

    referred: Count = Field(description="Referrals made in the window (every pathway and outcome).")
    pending_approval: Count = Field(description="Still waiting at the policy's approval gate.")
    accepted: Count = Field(description="Accepted, at once or after approval, whatever happened since.")
    declined: DeclinedCounts
    withdrawn: Count = Field(description="Withdrawn by the referring agency or the program manager.")
    arrest_diversions: Count = Field(
        description="Accepted arrest diversions: the referrals with an assessment deadline "
        "(the denominator of the deadline rates)."
    )
    case_opened: Count = Field(description="A case agency opened a case (or reached a later milestone).")
    assessed_on_time: Count = Field(description="Assessed by the due time in force (extensions included).")
    assessed_late: Count = Field(description="Assessed after the due time.")
    enrolled: Count = Field(description="The person enrolled (closed since or not).")
    closed: Count = Field(description="The case is closed now.")
    lapsed: Count = Field(description="The assessment window lapsed (recorded, even if withdrawn or corrected since).")
    warrant_requested: Count = Field(description="A warrant request was ever made (rescinded since or not).")
    warrant_rescinded: Count = Field(description="A warrant request was rescinded.")


class RateView(BaseModel):
    """A count as a share of its denominator."""

    count: Count
    denominator: Count
    percent: float | None = Field(
        description="count / denominator as a percentage, one decimal; null when the denominator is 0."
    )


class FunnelRates(BaseModel):
    """The rates programs report; each names its numerator and denominator."""

    enrolled_of_accepted: RateView = Field(description="Enrolled / accepted.")
    assessed_on_time_of_arrest_diversions: RateView = Field(
        description="Accepted arrest diversions assessed on time / accepted arrest diversions."
    )
    lapsed_of_arrest_diversions: RateView = Field(description="Lapsed / accepted arrest diversions.")
    warrant_requested_of_arrest_diversions: RateView = Field(
        description="Referrals with a warrant request / accepted arrest diversions."
    )
    warrant_rescinded_of_warrant_requested: RateView = Field(
        description="Referrals whose warrant request was rescinded / referrals with a warrant request."
    )


class FunnelRow(BaseModel):
    """One row of the report: the total, or one group."""

    key: Annotated[str, free_text(MAX_KEY)] | None = Field(
        description="The group: `YYYY-MM` (month, in the jurisdiction's time zone), the pathway, the precinct or "
        "the policy version; null for the total row, and for referrals with no precinct (or policy version) recorded.",
    )
    counts: FunnelCounts
    rates: FunnelRates


class ReferralReport(BaseModel):
    """The referral funnel of the referrals made in `[referred_from, referred_to)`, in total and by `by`."""

    jurisdiction: JurisdictionId = Field(description="The jurisdiction reported on: the program manager's own.")
    referred_from: datetime = Field(description="Start of the window (inclusive), on `referred_at`, in UTC.")
    referred_to: datetime = Field(description="End of the window (exclusive), in UTC.")
    by: GroupBy = Field(description="What `groups` are keyed by.")
    time_zone: Annotated[str, free_text(64)] = Field(
        description="The jurisdiction's time zone (IANA), which months are taken in."
    )
    total: FunnelRow = Field(description="Every referral of the window (key null).")
    groups: list[FunnelRow] = Field(
        max_length=MAX_GROUPS,
        description="One row per key present in the window, sorted by key; the null key (no precinct or "
        "policy version recorded) last.",
    )


class DeadlineView(BaseModel):
    """A referral whose assessment is still awaited: status only, no person and no case content."""

    referral_id: UUID
    pathway: Pathway
    precinct: Annotated[str, free_text(100)] | None = Field(description="Null when none was recorded.")
    agency: Annotated[str, free_text(64)] = Field(description="The referring agency (RMS).")
    due_by: datetime = Field(description="The assessment due time in force, in the jurisdiction's time zone.")
    days_left: int = Field(
        ge=-MAX_OVERDUE_DAYS,
        le=MAX_WITHIN_DAYS,
        description="Whole days from now to `due_by`, rounded down: 0 when due within a day, negative when "
        "overdue and the lapse is not recorded yet.",
    )
    status: Status = Field(description="Always `accepted`: assessed, lapsed and withdrawn referrals are left out.")


class DeadlinesReport(BaseModel):
    """One page of the assessments due soonest; pass `next_cursor` as `cursor` for the next."""

    jurisdiction: JurisdictionId
    within_days: int = Field(ge=1, le=MAX_WITHIN_DAYS)
    as_of: datetime = Field(description="The instant `days_left` is counted from (UTC).")
    items: list[DeadlineView] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None


def _in_utc(field: str, moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC instant
        raise invalid(field, "the time is out of range once taken to UTC") from error


def _own(caller_jurisdiction: str | None, jurisdiction: str | None, what: str) -> str:
    own = caller_jurisdiction or ""  # `ProgramManager` admits only tokens that name one
    if jurisdiction is not None and jurisdiction != own:
        raise Forbidden(f"a program manager of {own} sees only its own jurisdiction's {what}", field="jurisdiction")
    return own


def _rate(rate: Rate) -> RateView:
    return RateView(count=rate.count, denominator=rate.denominator, percent=rate.percent)


def _row(key: str | None, counts: Counts) -> FunnelRow:
    fields = counts.as_dict()
    fields["declined"] = {kind.value: counts.declined[kind] for kind in DeclineKind}
    del fields["arrest_diversions_assessed_on_time"]  # the numerator of a rate, shown there
    return FunnelRow(
        key=key,
        counts=FunnelCounts.model_validate(fields),
        rates=FunnelRates.model_validate({name: _rate(rate) for name, rate in rates(counts).items()}),
    )


router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(400, 401, 403, 422, 500))

JurisdictionQuery = Annotated[
    JurisdictionId | None, Query(description="The caller's own jurisdiction (the default); any other is 403.")
]


@router.get("/referrals", response_model=ReferralReport, summary="The referral funnel")
async def referral_report(
    referred_from: Annotated[
        IsoDateTime, Query(alias="from", description="Referred at or after (ISO 8601 with its UTC offset).")
    ],
    referred_to: Annotated[IsoDateTime, Query(alias="to", description="Referred before (exclusive).")],
    caller: ProgramManager,
    intake: Parts,
    session: ReadSession,
    by: Annotated[GroupBy, Query(description="Group by referral month, pathway, precinct or policy version.")] = (
        "month"
    ),
    jurisdiction: JurisdictionQuery = None,
) -> Any:
    """Of the referrals of the caller's jurisdiction made in `[from, to)`: how many were
    accepted, declined (by kind), withdrawn, had a case opened, were assessed on time or late,
    enrolled, closed, lapsed, had a warrant requested or rescinded — where they stand now — and
    the rates programs report (enrolled / accepted; assessed on time, lapses and warrant
    requests / accepted arrest diversions; rescissions / warrant requests), in total and one
    row per month, pathway, precinct or policy version (`by`). Counts only: no referral id,
    person or case. A window that does not end after it starts is 422 naming `query.to`; a
    `jurisdiction` other than the token's is 403."""
    own = _own(caller.jurisdiction, jurisdiction, "report")
    start, end = _in_utc("query.from", referred_from), _in_utc("query.to", referred_to)
    if end <= start:
        raise invalid("query.to", "`to` must be later than `from`")
    policy = intake.policies.latest(own)
    zone = policy.zone if policy is not None else ZoneInfo("UTC")
    total, groups = tally(await outcomes(session, own, start, end), by, zone)
    return ReferralReport(
        jurisdiction=own,
        referred_from=start,
        referred_to=end,
        by=by,
        time_zone=zone.key,
        total=_row(None, total),
        groups=[_row(key, counts) for key, counts in groups],
    )


@router.get("/deadlines", response_model=DeadlinesReport, summary="Assessments due soon")
async def deadlines_report(
    caller: ProgramManager,
    intake: Parts,
    read: Audited,
    within_days: Annotated[
        int, Query(ge=1, le=MAX_WITHIN_DAYS, description="Due within this many days from now (1 to 90).")
    ] = 7,
    jurisdiction: JurisdictionQuery = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DeadlinesReport:
    """The referrals of the caller's jurisdiction whose assessment is due within `within_days`
    days from now and still awaited (accepted: not assessed, lapsed, withdrawn or closed),
    overdue ones whose lapse is not recorded yet first, then soonest due. Status only: id,
    pathway, precinct, agency, due time, days left. Each referral listed is recorded in the
    audit trail with the purpose given. A `jurisdiction` other than the token's is 403."""
    own = _own(caller.jurisdiction, jurisdiction, "deadlines")
    now = utcnow()
    rows, next_cursor = await open_deadlines(
        read.session, own, now + timedelta(days=within_days), cursor=cursor, limit=limit
    )
    await read.record("referral deadlines", [row["referral_id"] for row in rows])
    policy = intake.policies.latest(own)
    zone = policy.zone if policy is not None else ZoneInfo("UTC")
    return DeadlinesReport(
        jurisdiction=own,
        within_days=within_days,
        as_of=now,
        items=[
            DeadlineView(
                referral_id=row["referral_id"],
                pathway=row["pathway"],
                precinct=row["precinct"],
                agency=row["agency"],
                due_by=row["assessment_due_by"].astimezone(zone),
                days_left=days_left(row["assessment_due_by"], now),
                status=row["status"],
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
