"""Assessment's REST API: case-agency staff read cases and move them through their lifecycle.

Who may call which route is docs/access.md: case managers see and change only the cases of their
own agency (any other case answers 404, as if it did not exist); program managers get reports
and audit trails of their own jurisdiction. Each read of a case by a person is audited.
"""

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from divert_assessment.adapters.case_queries import CaseFilter, InvalidCursor, list_cases
from divert_assessment.adapters.cases import find_case, find_consents, jurisdiction_of, stream_id
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.actors import case_manager
from divert_assessment.entrypoints.disclosures import disclosures_router
from divert_assessment.entrypoints.errors import invalid
from divert_assessment.entrypoints.lifecycle import lifecycle_router
from divert_assessment.entrypoints.reports import reports_router
from divert_assessment.entrypoints.schemas import CasePage
from divert_assessment.entrypoints.timeline import CaseDetail, timeline
from divert_assessment.entrypoints.views import case_summary, case_view
from divert_platform.app import create_app
from divert_platform.audit import audit_router, stated_purpose
from divert_platform.auth import Access, Principal
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
    access: Access = app.state.access
    app.include_router(_cases_router(assessment, access))
    app.include_router(lifecycle_router(assessment, access))
    app.include_router(disclosures_router(assessment, access))
    app.include_router(reports_router(assessment, access))
    app.include_router(_audit_router(assessment, access))
    return app


def _audit_router(assessment: Assessment, access: Access) -> APIRouter:
    """`GET /v1/audit`: reads and writes of a case, for program managers of its jurisdiction."""

    async def case_jurisdiction(referral_id: str) -> str | None:
        async with assessment.unit_of_work() as uow:
            return await jurisdiction_of(uow, referral_id)

    def case_streams(referral_id: str) -> Sequence[str]:
        # called only for an id `case_jurisdiction` found, so a case's own (valid) referral id
        return [stream_id(UUID(referral_id))]

    return audit_router(access, assessment.audit_trail(), jurisdiction_of=case_jurisdiction, streams_of=case_streams)


def _cases_router(assessment: Assessment, access: Access) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(400, 401, 403, 422, 500))
    caller = case_manager(access)
    trail = assessment.audit_trail()

    @router.get("", response_model=CasePage, summary="List cases")
    async def list_all(
        request: Request,
        principal: Annotated[Principal, Depends(caller)],
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
        """The caller's agency's cases matching every given filter, a page at a time: newest
        referral first, or with `due_within_days` the assessments coming due soonest first
        (overdue ones are not listed there). Items are summaries — open a case for its contact
        details, consents, needs and timeline. A cursor from another listing order is 422. Each
        case listed is recorded in the audit trail, with the `X-Divert-Purpose` given."""
        where = CaseFilter(principal.agency or "", status, jurisdiction, case_manager_id, due_within_days)
        async with assessment.unit_of_work() as uow:
            try:
                rows, next_cursor = await list_cases(uow, where, utcnow(), cursor=cursor, limit=limit)
            except InvalidCursor as error:
                raise invalid("query.cursor", str(error)) from error
        listed = [row["referral_id"] for row in rows]
        await trail.record_read(principal, resource="case list", referral_ids=listed, purpose=stated_purpose(request))
        return CasePage(items=[case_summary(row) for row in rows], next_cursor=next_cursor)

    @router.get("/{referral_id}", response_model=CaseDetail, summary="A case", responses=problem_responses(404))
    async def get_case(referral_id: UUID, request: Request, principal: Annotated[Principal, Depends(caller)]) -> Any:
        """The case opened for a referral: status, due time, the person's contact details, the
        assessment's needs once recorded, the case manager, contacts, enrollment or decline,
        engagement, closure, the link to the person's earlier case when re-referred, every
        consent with whether it is `active` now, and its `timeline`: every recorded change,
        oldest first, with when it happened, when it was recorded and who recorded it. Times are
        in UTC. A case of another agency is 404. The read is recorded in the audit trail, with
        the `X-Divert-Purpose` given."""
        async with assessment.unit_of_work() as uow:
            row = await find_case(uow, referral_id, agency=principal.agency)
            if row is None:
                raise NotFound(f"no case for referral {referral_id}")
            consents = await find_consents(uow, referral_id)
            history = await uow.events.read(stream_id(referral_id))
        # recorded once the read's transaction is over: SQLite allows one writer at a time
        await trail.record_read(
            principal, resource="case", referral_ids=[str(referral_id)], purpose=stated_purpose(request)
        )
        view = case_view(row, consents, utcnow())
        return CaseDetail(**dict(view), timeline=timeline(history))

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())
