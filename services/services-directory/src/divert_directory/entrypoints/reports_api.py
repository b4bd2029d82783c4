"""`GET /v1/reports/service-referrals`: the services a jurisdiction's cases were referred to, for
program managers and evaluators (docs/domain.md#the-evaluation-extract).

The services-referred half of the evaluation export: it joins assessment's extract on
`referral_id`. De-identified like the extract: ids, need and status codes and dates only — no
name, consent, consent party, or who made or moved a referral. Part 2 service referrals are never
listed (`domain/evaluation.py` says why). Every call is audited: the caller, window and row count,
and a read of each case listed in its trail.
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_contracts.timestamps import IsoDateTime
from divert_directory.adapters.service_referral_reports import service_referrals_made
from divert_directory.domain.evaluation import shown_to_evaluators
from divert_directory.entrypoints.callers import Reporter
from divert_directory.entrypoints.referral_schemas import MAX_HISTORY
from divert_platform.audit import Audited
from divert_platform.pagination import Cursor
from divert_platform.problems import invalid, problem_responses
from divert_platform.text import JurisdictionId

MAX_ROWS = 1000
"""At most this many rows in one page of the report; `next_cursor` leads to the rest."""


class StatusDate(BaseModel):
    """One status the service referral took and when (UTC); a decline with its reason code."""

    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None = Field(description="Why it was declined (a code); null otherwise.")
    at: datetime


class ServiceReferralRow(BaseModel):
    """One service referral: which case, which need, which service, and how it went."""

    referral_id: UUID = Field(description="The case's id (its referral id): joins the evaluation extract's rows.")
    service_referral_id: UUID
    need: NeedDomain = Field(description="The need the service was to meet (never a Part 2 one here).")
    service_id: UUID = Field(description="The HSDS service referred to.")
    organization_id: UUID = Field(description="The HSDS organization providing it.")
    status: ServiceReferralStatus = Field(description="Where it stands now.")
    made_at: datetime = Field(description="When the case manager made it (UTC).")
    updated_at: datetime = Field(description="When the directory last changed it (UTC).")
    history: list[StatusDate] = Field(max_length=MAX_HISTORY, description="Every status it took, oldest first.")


class ServiceReferralReport(BaseModel):
    """One page of the report, oldest service referral first; pass `next_cursor` as `cursor` for the next."""

    jurisdiction: JurisdictionId
    made_from: datetime = Field(description="Start of the window (inclusive), on `made_at`, in UTC.")
    made_to: datetime = Field(description="End of the window (exclusive), in UTC.")
    items: list[ServiceReferralRow] = Field(max_length=MAX_ROWS)
    next_cursor: Cursor | None = Field(description="The next page's cursor; null on the last page.")


router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(401, 403, 422, 500))


def made_window(made_from: datetime, made_to: datetime) -> tuple[datetime, datetime]:
    """The window `[from, to)` in UTC; 422 naming `query.from` or `query.to` when it is out of
    range or does not end after it starts."""
    start, end = _in_utc("query.from", made_from), _in_utc("query.to", made_to)
    if end <= start:
        raise invalid("query.to", "`to` must be later than `from`")
    return start, end


def _in_utc(field: str, moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC instant
        raise invalid(field, "the time is out of range once taken to UTC") from error


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


@router.get(
    "/service-referrals",
    response_model=ServiceReferralReport,
    summary="The services a jurisdiction's cases were sent to",
)
async def service_referral_report(
    made_from: Annotated[IsoDateTime, Query(alias="from", description="Made at or after (ISO 8601 with its offset).")],
    made_to: Annotated[IsoDateTime, Query(alias="to", description="Made before (exclusive).")],
    caller: Reporter,
    read: Audited,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="At most this many rows.")] = MAX_ROWS,
) -> Any:
    """One row per service referral of the caller's jurisdiction made in `[from, to)` (on
    `made_at`: the directory does not know when the case was referred, so to follow the cases of
    the evaluation extract's window ask from its `from` to now), oldest first: the case's
    `referral_id`, the need, the service and its organization, the status now and the date of each
    status. Service referrals for a 42 CFR Part 2 need are never listed. Each call is audited:
    the caller, the window and the row count, and a read of each case listed in its trail."""
    own = caller.jurisdiction or ""  # `Reporter` admits only tokens that name one
    start, end = made_window(made_from, made_to)
    rows, next_cursor = await service_referrals_made(read.session, own, start, end, cursor=cursor, limit=limit)
    # The query already leaves Part 2 referrals out; asked again here so that no change to the query
    # can ever let one through.
    items = [ServiceReferralRow(**row) for row in rows if shown_to_evaluators(row["need"], row["part2"])]
    await read.record(f"service_referral_report {own} {_stamp(start)}/{_stamp(end)} rows={len(items)}", [None])
    await read.record("service_referral_report", sorted({str(item.referral_id) for item in items}))
    return ServiceReferralReport(jurisdiction=own, made_from=start, made_to=end, items=items, next_cursor=next_cursor)
