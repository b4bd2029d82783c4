"""Warrants' REST API: the deadline workflow raises requests; prosecutors and courts acknowledge
them; prosecutors, courts and RMS read them, rescissions and review flags included."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, Header, Query, Response

from divert_contracts.referrals import LapseAction
from divert_platform.app import create_app
from divert_platform.clock import utcnow
from divert_platform.idempotency import request_fingerprint
from divert_platform.problems import Conflict, NotFound, Unprocessable, problem_responses
from divert_warrants.adapters.warrant_requests import WarrantRequestFilter, find_request, list_requests
from divert_warrants.bootstrap import Warrants, bootstrap
from divert_warrants.domain.warrant_request import (
    InvalidTransition,
    InvalidWarrantRequest,
    RequestWarrant,
    WarrantRequestStatus,
)
from divert_warrants.entrypoints.schemas import (
    AcknowledgementBody,
    WarrantRequestBody,
    WarrantRequestList,
    WarrantRequestView,
)
from divert_warrants.service_layer import handlers

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Retry-safe key; reusing it with another body is a 409."
    ),
]

# Until service authentication arrives, the only caller of POST is intake's deadline workflow.
DEADLINE_WORKFLOW = {"actor": "referral-deadline-workflow", "role": "service"}


def build_api(warrants: Warrants) -> FastAPI:
    """The warrants API over already-built parts (tests pass their own)."""

    app = create_app(
        title="Divert warrants",
        description="Warrant requests raised when an arrest diversion's assessment window lapses.",
        settings=warrants.settings,
        engine=warrants.engine,
    )
    app.include_router(_warrant_requests_router(warrants))
    return app


def _warrant_requests_router(warrants: Warrants) -> APIRouter:
    router = APIRouter(
        prefix="/v1/warrant-requests",
        tags=["warrant requests"],
        responses=problem_responses(400, 404, 409, 413, 422, 500),
    )

    @router.post(
        "",
        status_code=201,
        response_model=WarrantRequestView,
        summary="Request a warrant for a lapsed referral",
        responses={200: {"model": WarrantRequestView, "description": "The referral already had a request."}},
    )
    async def request_warrant(
        body: WarrantRequestBody, response: Response, idempotency_key: IdempotencyKey = None
    ) -> Any:
        """Record that a referral's assessment window lapsed and ask the prosecutor or court to act.

        Idempotent per referral: the first call creates the request (201) and publishes
        `warrant.requested`; every later call for the same referral returns that request as it
        stands now (200) and publishes nothing. Reusing an `Idempotency-Key` with a different
        body is a 409.

        No wrongful warrant: if the referral's assessment was already completed at or before
        `assessment_due_by`, or the referral was already withdrawn (events can overtake the
        lapse), the request is recorded and rescinded together. The answer is still 201, with
        status `rescinded` and the reason, and both `warrant.requested` and
        `warrant.request_rescinded` are published, so the audit trail shows both.
        """
        command = RequestWarrant(
            warrant_request_id=uuid4(),
            referral_id=body.referral_id,
            jurisdiction=body.jurisdiction,
            kind=body.kind,
            assessment_due_by=body.assessment_due_by,
            lapsed_at=body.lapsed_at,
        )
        fingerprint = request_fingerprint(body.model_dump(mode="json"))
        idempotency = handlers.Idempotency(idempotency_key, fingerprint) if idempotency_key else None
        try:
            outcome = await handlers.request_warrant(
                warrants.unit_of_work, command, utcnow(), DEADLINE_WORKFLOW, idempotency
            )
        except InvalidWarrantRequest as error:
            raise Unprocessable(
                str(error), errors=[{"field": f"body.{error.field}", "message": str(error), "code": "invalid"}]
            ) from error
        except handlers.ConcurrentRequest as error:
            raise Conflict("concurrent requests for this referral collided; retry") from error
        response.status_code = 201 if outcome.created else 200
        return outcome.view

    @router.get("", response_model=WarrantRequestList, summary="List warrant requests")
    async def list_warrant_requests(
        referral_id: UUID | None = None,
        status: WarrantRequestStatus | None = None,
        jurisdiction: Annotated[str | None, Query(max_length=64)] = None,
        kind: LapseAction | None = None,
        flagged: Annotated[bool | None, Query(description="Only requests (not) flagged for review.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="At most this many, oldest first.")] = 100,
    ) -> Any:
        """Warrant requests matching every filter given, oldest first."""
        where = WarrantRequestFilter(
            referral_id=referral_id,
            status=status.value if status else None,
            jurisdiction=jurisdiction,
            kind=kind,
            flagged=flagged,
            limit=limit,
        )
        async with warrants.unit_of_work() as uow:
            return {"items": await list_requests(uow, where)}

    @router.get("/{warrant_request_id}", response_model=WarrantRequestView, summary="A warrant request")
    async def get_warrant_request(warrant_request_id: UUID) -> Any:
        """One warrant request: its referral, kind, status, dates, rescission and review flag."""
        async with warrants.unit_of_work() as uow:
            view = await find_request(uow, warrant_request_id)
        if view is None:
            raise NotFound(f"no warrant request {warrant_request_id}")
        return view

    @router.post(
        "/{warrant_request_id}/acknowledgement",
        response_model=WarrantRequestView,
        summary="Acknowledge a warrant request",
    )
    async def acknowledge_warrant_request(warrant_request_id: UUID, body: AcknowledgementBody) -> Any:
        """The prosecutor or court takes the request and acts on it outside Divert.

        Publishes `warrant.request_acknowledged`. Repeating the call with the same
        `acknowledged_by` is a harmless retry (200, nothing new recorded). Acknowledging a
        rescinded request, or one the other role already acknowledged, is a 409 whose
        `current_state` says where the request stands. Should an acknowledged request later
        turn out wrongful, it is not changed but `flagged` for the prosecutor's review.
        """
        # Until authentication arrives (a later issue) the caller names its own role.
        actor = {"actor": "unauthenticated", "role": body.acknowledged_by}
        try:
            return await handlers.acknowledge_request(
                warrants.unit_of_work, warrant_request_id, body.acknowledged_by, utcnow(), actor
            )
        except handlers.RequestNotFound as error:
            raise NotFound(str(error)) from error
        except InvalidTransition as error:
            raise Conflict(str(error), current_state=error.current_state) from error

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-warrants api`)."""
    return build_api(bootstrap())
