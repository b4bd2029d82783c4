"""Assessment's REST API: case-agency staff read cases and move them through their lifecycle."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query

from divert_assessment.adapters.case_queries import CaseFilter, InvalidCursor, list_cases
from divert_assessment.adapters.cases import find_case, find_consents, stream_id
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.disclosures import disclosures_router
from divert_assessment.entrypoints.errors import invalid
from divert_assessment.entrypoints.lifecycle import lifecycle_router
from divert_assessment.entrypoints.reports import reports_router
from divert_assessment.entrypoints.schemas import CasePage
from divert_assessment.entrypoints.timeline import CaseDetail, timeline
from divert_assessment.entrypoints.views import case_summary, case_view
from divert_platform.app import create_app
from divert_platform.clock import utcnow
from divert_platform.problems import NotFound, problem_responses

MAX_DUE_WITHIN_DAYS = 366


def build_api(assessment: Assessment) -> FastAPI:
    """The assessment API over already-built parts (tests pass their own)."""

    app = create_app(
        title="Divert assessment",
        description=(
            "Cases opened for accepted referrals: contacts, consents, the intake assessment, enrollment "
            "or decline, engagement, closure and reopening; disclosures under consent; program reports."
        ),
        settings=assessment.settings,
        engine=assessment.engine,
    )
    app.include_router(_cases_router(assessment))
    app.include_router(lifecycle_router(assessment))
    app.include_router(disclosures_router(assessment))
    app.include_router(reports_router(assessment))
    return app


def _cases_router(assessment: Assessment) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(400, 422, 500))

    @router.get("", response_model=CasePage, summary="List cases")
    async def list_all(
        status: CaseStatus | None = None,
        jurisdiction: Annotated[str | None, Query(max_length=64)] = None,
        case_manager_id: Annotated[str | None, Query(max_length=64, description="The assigned case manager.")] = None,
        due_within_days: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_DUE_WITHIN_DAYS,
                description="Only cases pending assessment due between now and now plus this many days, "
                "soonest due first.",
            ),
        ] = None,
        cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Any:
        """Cases matching every given filter, a page at a time: newest referral first, or with
        `due_within_days` the assessments coming due soonest first (overdue ones are not listed
        there). Items are summaries — open a case for its contact details, consents, needs and
        timeline. A cursor from another listing order is 422."""
        where = CaseFilter(status, jurisdiction, case_manager_id, due_within_days)
        async with assessment.unit_of_work() as uow:
            try:
                rows, next_cursor = await list_cases(uow, where, utcnow(), cursor=cursor, limit=limit)
            except InvalidCursor as error:
                raise invalid("query.cursor", str(error)) from error
        return CasePage(items=[case_summary(row) for row in rows], next_cursor=next_cursor)

    @router.get("/{referral_id}", response_model=CaseDetail, summary="A case", responses=problem_responses(404))
    async def get_case(referral_id: UUID) -> Any:
        """The case opened for a referral: status, due time, the person's contact details, the
        assessment's needs once recorded, the case manager, contacts, enrollment or decline,
        engagement, closure, the link to the person's earlier case when re-referred, every
        consent with whether it is `active` now, and its `timeline`: every recorded change,
        oldest first, with when it happened, when it was recorded and who recorded it. Times are
        in UTC."""
        async with assessment.unit_of_work() as uow:
            row = await find_case(uow, referral_id)
            if row is None:
                raise NotFound(f"no case for referral {referral_id}")
            consents = await find_consents(uow, referral_id)
            history = await uow.events.read(stream_id(referral_id))
        view = case_view(row, consents, utcnow())
        return CaseDetail(**dict(view), timeline=timeline(history))

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())
