"""Assessment's REST API: case-agency staff read cases and record assessments."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Header, Response

from divert_assessment.adapters.cases import find_case
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.domain.case import CaseNotPending, CompleteAssessment, InvalidAssessment, NeedFound
from divert_assessment.entrypoints.schemas import AssessmentRequest, AssessmentView, CaseView, SubjectView
from divert_assessment.service_layer import handlers
from divert_platform.app import create_app
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotencyKeys, request_fingerprint
from divert_platform.problems import Conflict, NotFound, Unprocessable
from divert_platform.unit_of_work import UnitOfWork

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: a repeat returns the first response."),
]


def build_api(assessment: Assessment) -> FastAPI:
    """The assessment API over already-built parts (tests pass their own)."""

    app = create_app(
        title="Divert assessment",
        description="Cases opened for accepted referrals, and the intake assessments case managers record.",
        settings=assessment.settings,
        engine=assessment.engine,
    )
    app.include_router(_cases_router(assessment))
    return app


def _cases_router(assessment: Assessment) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"])

    @router.get("/{referral_id}", response_model=CaseView, summary="A case")
    async def get_case(referral_id: UUID) -> CaseView:
        """The case opened for a referral: status, due time, the person's contact details and, once
        recorded, the assessment's needs. Times are in UTC."""
        async with assessment.unit_of_work() as uow:
            row = await find_case(uow, referral_id)
        if row is None:
            raise NotFound(f"no case for referral {referral_id}")
        return case_view(row)

    @router.post("/{referral_id}/assessment", status_code=201, response_model=CaseView, summary="Record the assessment")
    async def complete_assessment(
        referral_id: UUID, body: AssessmentRequest, response: Response, idempotency_key: IdempotencyKey = None
    ) -> Any:
        """Record the completed intake assessment of a case pending assessment.

        The assessment is judged on time when completed at or before the case's due time, and is
        published as `case.assessment_completed` (which stops an arrest diversion's deadline);
        needs about substance-use treatment are labelled `part2`. A case can be assessed once:
        a second attempt is 409 with the case's `current_state`. Send an `Idempotency-Key` so a
        retry returns the first response instead of a 409.
        """
        # The path is part of the fingerprint: one key reused for another case is a conflict.
        fingerprint = request_fingerprint({"referral_id": str(referral_id), **body.model_dump(mode="json")})
        async with assessment.unit_of_work() as uow:
            keys = IdempotencyKeys(uow.session, "case-assessments")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            command = CompleteAssessment(
                referral_id=referral_id,
                completed_at=body.completed_at,
                case_manager_id=body.case_manager_id,
                needs=tuple(NeedFound(domain=need.domain, priority=need.priority) for need in body.needs),
            )
            await _complete(uow, command)
            row = await find_case(uow, referral_id)
            assert row is not None  # written in this transaction
            view = case_view(row).model_dump(mode="json")
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, 201, view)
            await uow.commit()
        return view

    return router


async def _complete(uow: UnitOfWork, command: CompleteAssessment) -> None:
    """Run the handler, turning domain refusals into problem responses."""
    try:
        await handlers.complete_assessment(uow, command, utcnow())
    except handlers.CaseNotFound as error:
        raise NotFound(str(error)) from error
    except CaseNotPending as error:
        raise Conflict(str(error), current_state=error.current_state) from error
    except ConcurrencyConflict as error:
        raise Conflict("the case changed while the assessment was being recorded; reload it and retry") from error
    except InvalidAssessment as error:
        errors = [{"field": f"body.{v.field}", "message": v.message, "code": v.code} for v in error.violations]
        raise Unprocessable(str(error), errors=errors) from error


def case_view(row: dict[str, Any]) -> CaseView:
    """The API view of a `cases` row."""
    assessed = row["completed_at"] is not None
    return CaseView(
        referral_id=UUID(row["referral_id"]),
        status=row["status"],
        jurisdiction=row["jurisdiction"],
        pathway=row["pathway"],
        referred_at=row["referred_at"],
        assessment_due_by=row["assessment_due_by"],
        opened_at=row["opened_at"],
        subject=SubjectView(
            given_name=row["given_name"],
            family_name=row["family_name"],
            date_of_birth=row["date_of_birth"],
            phone=row["phone"],
            rms_person_id=row["rms_person_id"],
        ),
        assessment=AssessmentView(
            completed_at=row["completed_at"],
            case_manager_id=row["case_manager_id"],
            on_time=row["on_time"],
            needs=row["needs"],
        )
        if assessed
        else None,
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())
