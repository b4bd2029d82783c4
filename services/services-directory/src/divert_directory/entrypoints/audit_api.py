"""`GET /v1/audit?referral_id=`: who read a case's suggestions and service referrals here, and who
made and moved its service referrals, for program managers of the case's jurisdiction.

The same route and shape as intake's and assessment's (`divert_platform.audit`), written out here
because a case's streams are found in the database: one per service referral it has.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from divert_directory.adapters.case_facts import jurisdiction_of_case
from divert_directory.adapters.service_referrals import service_referral_streams
from divert_directory.bootstrap import ReadSession, Trail
from divert_directory.entrypoints.callers import AuditReader
from divert_platform.audit import AuditEntry, AuditPage
from divert_platform.problems import NotFound, problem_responses

router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 404, 422, 500))


@router.get("/v1/audit", response_model=AuditPage, summary="Who read and changed a case's data here")
async def audit(
    referral_id: Annotated[str, Query(max_length=36, description="The case (referral id) whose trail to show.")],
    caller: AuditReader,
    session: ReadSession,
    trail: Trail,
) -> AuditPage:
    """Every read of the case's suggestions and service referrals by a person, and every
    change to its service referrals, oldest first. A case of another jurisdiction is 404."""
    if await jurisdiction_of_case(session, referral_id) != caller.jurisdiction:
        raise NotFound(f"no referral {referral_id} in {caller.jurisdiction}")  # others' ids do not exist
    streams = await service_referral_streams(session, referral_id)
    await session.close()  # on SQLite the trail's own session would wait for this one
    entries = await trail.trail(referral_id, streams)
    return AuditPage(referral_id=referral_id, entries=[AuditEntry(**entry) for entry in entries])
