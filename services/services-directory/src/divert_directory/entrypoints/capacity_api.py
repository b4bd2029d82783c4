"""`PUT /v1/services/{service_id}/capacity`: mark a service full, or with room again.

Under `/v1/` so it never meets the public HSDS `/services/{id}` routes. Matching ranks services
marked full below every service with room, and flags them.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from divert_directory.adapters.capacity import capacity_of
from divert_directory.bootstrap import Directory
from divert_directory.entrypoints.callers import capacity_marker
from divert_directory.entrypoints.referral_schemas import CapacityRequest, CapacityView
from divert_directory.service_layer import service_referrals as handlers
from divert_platform.auth import Access, Principal
from divert_platform.clock import utcnow
from divert_platform.problems import Forbidden, NotFound, problem_responses


def capacity_router(directory: Directory, access: Access | None = None) -> APIRouter:
    """Capacity marking for case managers and program managers of the service's jurisdictions."""
    access = access or Access(directory.settings)
    router = APIRouter(
        prefix="/v1/services", tags=["capacity"], responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 500)
    )

    @router.put("/{service_id}/capacity", response_model=CapacityView, summary="Mark a service at capacity or not")
    async def mark(
        service_id: UUID, body: CapacityRequest, principal: Annotated[Principal, Depends(capacity_marker(access))]
    ) -> Any:
        """Say whether the service is full (`at_capacity: true`) or has room again (`false`).
        Idempotent: marking it as it already is records nothing. A program manager may mark the
        services of its jurisdiction, a case manager those serving a jurisdiction its agency
        serves (403 otherwise); an unknown service is 404. Who marked it and when is kept."""
        async with directory.unit_of_work() as uow:
            offer = await directory.catalogue.offer(uow.session, service_id)
            if offer is None:
                raise NotFound(f"no service {service_id} in the directory")
            if not handlers.may_mark_capacity(
                offer,
                role=principal.role,
                agency=principal.agency,
                jurisdiction=principal.jurisdiction,
                case_agencies=directory.settings.case_agencies,
            ):
                raise Forbidden("the service serves none of the jurisdictions this token may act for")
            await handlers.set_capacity(uow, offer, body.at_capacity, now=utcnow(), actor=principal.metadata())
            flag = await capacity_of(uow.session, service_id)
            await uow.commit()
        return CapacityView(
            service_id=service_id,
            at_capacity=flag["at_capacity"] if flag else False,
            marked_at=flag["marked_at"] if flag else None,
            marked_by=flag["marked_by"] if flag else None,
        )

    return router
