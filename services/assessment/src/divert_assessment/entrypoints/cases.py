"""Reading cases over REST: the caller's agency's case list, and one case with its history.

Each case a person reads, listed or opened, is recorded in the audit trail with the purpose
they gave (`X-Divert-Purpose`), once the read itself is over.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from divert_assessment.adapters.case_queries import CaseFilter, case_history, find_case, find_consents, list_cases
from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.callers import CaseManager
from divert_assessment.entrypoints.schemas import MAX_PAGE, CaseManagerId, CasePage
from divert_assessment.entrypoints.timeline import MAX_TIMELINE, CaseDetail, timeline
from divert_assessment.entrypoints.views import case_summary, case_view
from divert_assessment.service_layer.handlers import CaseNotFound
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.pagination import Cursor
from divert_platform.problems import problem_responses
from divert_platform.text import JurisdictionId

MAX_DUE_WITHIN_DAYS = 366

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(400, 401, 403, 422, 500))


@router.get("", response_model=CasePage, summary="List cases")
async def list_all(
    caller: CaseManager,
    read: Audited,
    status: CaseStatus | None = None,
    jurisdiction: Annotated[JurisdictionId | None, Query()] = None,
    case_manager_id: Annotated[CaseManagerId | None, Query(description="The assigned case manager.")] = None,
    due_within_days: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_DUE_WITHIN_DAYS,
            description="Only cases pending assessment due between now and now plus this many days, soonest due first.",
        ),
    ] = None,
    due_soon: Annotated[
        bool | None,
        Query(
            description="`true`: only cases whose agency was reminded that their assessment is due (`due_soon`), "
            "soonest due first; `false`: the others."
        ),
    ] = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Any:
    """The caller's agency's cases matching every given filter, a page at a time: newest
    referral first, or with `due_within_days` or `due_soon=true` the assessments coming due
    soonest first (overdue ones are not listed with `due_within_days`). Items are summaries,
    with the reminders of the assessment's due time (`next_reminder_at` judged by the server's
    clock) — open a case for its contact details, consents, needs and timeline. A cursor from
    another listing order is 422. Each case listed is recorded in the audit trail, with the
    `X-Divert-Purpose` given."""
    where = CaseFilter(caller.agency or "", status, jurisdiction, case_manager_id, due_within_days, due_soon)
    now = utcnow()
    rows, next_cursor = await list_cases(read.session, where, now, cursor=cursor, limit=limit)
    await read.record("case list", [row["referral_id"] for row in rows])
    return CasePage(items=[case_summary(row, now) for row in rows], next_cursor=next_cursor)


@router.get("/{referral_id}", response_model=CaseDetail, summary="A case", responses=problem_responses(404))
async def get_case(referral_id: UUID, caller: CaseManager, read: Audited) -> Any:
    """The case opened for a referral: status, due time (as extended) and its reminders
    (`next_reminder_at` judged by the server's clock), the person's contact details, the
    assessment's needs once recorded, the case manager, contacts, enrollment or decline,
    engagement, closure, the link to the person's earlier case when re-referred, every
    consent with whether it is `active` now, and its `timeline`: every recorded change,
    oldest first, with when it happened, when it was recorded and who recorded it. Times are
    in UTC. A case of another agency is 404. The read is recorded in the audit trail, with
    the `X-Divert-Purpose` given."""
    row = await find_case(read.session, referral_id, agency=caller.agency)
    if row is None:
        raise CaseNotFound(referral_id)
    consents = await find_consents(read.session, referral_id)
    history = await case_history(read.session, referral_id)
    await read.record("case", [str(referral_id)])
    view = case_view(row, consents, utcnow())
    return CaseDetail(**dict(view), timeline=timeline(history)[-MAX_TIMELINE:])
