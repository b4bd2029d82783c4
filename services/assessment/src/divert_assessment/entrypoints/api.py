"""Assessment's REST API: case-agency staff read cases and move them through their lifecycle."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI

from divert_assessment.adapters.cases import find_case, find_consents
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.entrypoints.lifecycle import lifecycle_router
from divert_assessment.entrypoints.schemas import CaseView
from divert_assessment.entrypoints.views import case_view
from divert_platform.app import create_app
from divert_platform.clock import utcnow
from divert_platform.problems import NotFound, problem_responses


def build_api(assessment: Assessment) -> FastAPI:
    """The assessment API over already-built parts (tests pass their own)."""

    app = create_app(
        title="Divert assessment",
        description=(
            "Cases opened for accepted referrals: contacts, consents, the intake assessment, enrollment "
            "or decline, engagement, closure and reopening."
        ),
        settings=assessment.settings,
        engine=assessment.engine,
    )
    app.include_router(_cases_router(assessment))
    app.include_router(lifecycle_router(assessment))
    return app


def _cases_router(assessment: Assessment) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(400, 404, 422, 500))

    @router.get("/{referral_id}", response_model=CaseView, summary="A case")
    async def get_case(referral_id: UUID) -> Any:
        """The case opened for a referral: status, due time, the person's contact details, the
        assessment's needs once recorded, the case manager, contacts, enrollment or decline,
        engagement, closure, the link to the person's earlier case when re-referred, and every
        consent with whether it is `active` now. Times are in UTC."""
        async with assessment.unit_of_work() as uow:
            row = await find_case(uow, referral_id)
            consents = await find_consents(uow, referral_id) if row else []
        if row is None:
            raise NotFound(f"no case for referral {referral_id}")
        return case_view(row, consents, utcnow())

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())
