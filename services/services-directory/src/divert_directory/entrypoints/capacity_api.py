"""`PUT /v1/services/{service_id}/capacity`: mark a service full, or with room again.

Under `/v1/` so it never meets the public HSDS `/services/{id}` routes. Matching ranks services
marked full below every service with room, and flags them.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from divert_directory.adapters.capacity import capacity_view
from divert_directory.bootstrap import CaseAgencies, UnitOfWork
from divert_directory.domain.commands import MarkServiceCapacity
from divert_directory.entrypoints.callers import CapacityMarker
from divert_directory.entrypoints.referral_schemas import CapacityRequest, CapacityView
from divert_directory.service_layer import handlers
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotentRequest, Ids
from divert_platform.problems import problem_responses

router = APIRouter(
    prefix="/v1/services", tags=["capacity"], responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 500)
)


@router.put(
    "/{service_id}/capacity",
    response_model=CapacityView,
    summary="Mark a service at capacity or not",
    responses=problem_responses(409),
)
async def mark(
    service_id: UUID,
    body: CapacityRequest,
    caller: CapacityMarker,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
    case_agencies: CaseAgencies,
) -> Any:
    """Say whether the service is full (`at_capacity: true`) or has room again (`false`).
    Idempotent: marking it as it already is records nothing. A program manager may mark the
    services of its jurisdiction, a case manager those serving a jurisdiction its agency
    serves (403 otherwise); an unknown service is 404. Who marked it and when is kept. An
    `Idempotency-Key` reused with another body is 409."""
    command = MarkServiceCapacity(
        service_id,
        body.at_capacity,
        role=caller.role,
        agency=caller.agency,
        jurisdiction=caller.jurisdiction,
        at=utcnow(),
    )

    async def mark_it() -> Ids:
        await handlers.mark_service_capacity(command, uow, case_agencies=case_agencies)
        return {"service_id": service_id}

    async def as_marked(ids: Ids) -> dict[str, Any]:
        return CapacityView(**await capacity_view(uow.session, ids["service_id"])).model_dump(mode="json")

    # Two marks racing on one service meet on its stream's version: the retry sees the winner's.
    return await idempotency.run(uow, body, mark_it, view=as_marked, retry_on=(ConcurrencyConflict,), attempts=3)
