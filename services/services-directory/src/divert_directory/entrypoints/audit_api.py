"""`GET /v1/audit?referral_id=`: who read a case's suggestions and service referrals here, and who
made and moved its service referrals, for program managers of the case's jurisdiction."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from divert_directory.adapters.case_facts import jurisdiction_of_case
from divert_directory.adapters.referral_tables import service_referrals
from divert_directory.adapters.service_referrals import stream_id
from divert_directory.bootstrap import Directory
from divert_platform.audit import AuditEntry, AuditPage, AuditTrail
from divert_platform.auth import Access, Principal
from divert_platform.problems import Forbidden, NotFound, problem_responses


def directory_audit_router(directory: Directory, access: Access | None = None) -> APIRouter:
    """The directory's audit trail, as intake's and assessment's: same route, same shape."""
    access = access or Access(directory.settings)
    router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 404, 422, 500))
    trail = AuditTrail(directory.sessions)

    @router.get("/v1/audit", response_model=AuditPage, summary="Who read and changed a case's data here")
    async def audit(
        referral_id: Annotated[str, Query(max_length=36, description="The case (referral id) whose trail to show.")],
        principal: Annotated[Principal, Depends(access.allow("program_manager"))],
    ) -> AuditPage:
        """Every read of the case's suggestions and service referrals by a person, and every
        change to its service referrals, oldest first. A case of another jurisdiction is 404."""
        if not principal.jurisdiction:
            raise Forbidden("a program manager's token must name its jurisdiction")
        async with directory.unit_of_work() as uow:
            if await jurisdiction_of_case(uow.session, referral_id) != principal.jurisdiction:
                raise NotFound(f"no referral {referral_id} in {principal.jurisdiction}")  # others' ids do not exist
            ids = await uow.session.scalars(
                select(service_referrals.c.service_referral_id).where(service_referrals.c.referral_id == referral_id)
            )
            streams = [stream_id(UUID(service_referral_id)) for service_referral_id in ids]
        entries = await trail.trail(referral_id, streams)
        return AuditPage(referral_id=referral_id, entries=[AuditEntry(**entry) for entry in entries])

    return router
