"""Closed-loop service referrals over REST: refer a case's person to a service, follow the answer.

    POST /v1/service-referrals                 make one (consent-gated), 201
    GET  /v1/service-referrals?referral_id=    a case's service referrals, with history
    GET  /v1/service-referrals/{id}            one, with history
    POST /v1/service-referrals/{id}/status     accepted | declined (reason) | completed | no_show

Case managers of the agency owning the case only; any other case or referral is 404, as if it did
not exist. A referral needs a consent in force naming the service's organization for
`service_referral` or `care_coordination` (and marked `part2` for a Part 2 need): without one it
is 403 `consent-missing` saying which consent is missing. A status the current one does not lead
to is 409. Every change is attributed to the caller's token and published on `divert.directory`
via the outbox; every read is recorded in the audit trail.
"""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query

from divert_directory.adapters.case_facts import find_case_facts
from divert_directory.adapters.service_referrals import find_service_referral, list_service_referrals
from divert_directory.bootstrap import UnitOfWork
from divert_directory.domain.commands import ChangeServiceReferralStatus, ReferToService
from divert_directory.domain.service_referral import NEXT_STATUSES
from divert_directory.entrypoints.callers import CaseManager
from divert_directory.entrypoints.problems import CASE_CLOSED_RESPONSE, CONSENT_MISSING
from divert_directory.entrypoints.referral_schemas import (
    MAX_OFFSET,
    MAX_SERVICE_REFERRALS,
    ServiceReferralList,
    ServiceReferralRequest,
    ServiceReferralView,
    StatusChangeRequest,
)
from divert_directory.service_layer import handlers
from divert_directory.service_layer.unit_of_work import SqlDirectoryUnitOfWork
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotentRequest, Ids, View
from divert_platform.problems import NotFound, consent_missing_response, problem_responses

router = APIRouter(
    prefix="/v1/service-referrals",
    tags=["service referrals"],
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 500),
)


@router.post(
    "",
    status_code=201,
    response_model=ServiceReferralView,
    summary="Refer a case's person to a service",
    responses=CASE_CLOSED_RESPONSE | consent_missing_response(CONSENT_MISSING),
)
async def make(
    body: ServiceReferralRequest, caller: CaseManager, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Refer the person of case `referral_id` to service `service_id` for `need` (published as
    `directory.service_referral_made`); the referral starts `sent`.

    The service must be active, serve the case's jurisdiction and meet the need (422 naming
    the field otherwise); the case must not be closed (409). A consent in force — recorded,
    not revoked, not expired — must name the service's organization id among its parties, for
    `service_referral` or `care_coordination`, and be marked `part2` when the need is 42 CFR
    Part 2 protected (`substance_use_treatment`); otherwise 403 `consent-missing`, with
    `missing` saying which consent is needed. Send an `Idempotency-Key` so a retry makes no
    second referral: it gets 201 and the referral as it now stands."""
    command = ReferToService(
        service_referral_id=uuid4(),
        referral_id=body.referral_id,
        service_id=body.service_id,
        need=body.need,
        agency=caller.agency,
        at=utcnow(),
    )

    async def refer() -> Ids:
        referral = await handlers.refer_to_service(command, uow)
        return {"service_referral_id": referral.id}

    return await idempotency.run(uow, body, refer, view=_as_it_stands(uow, caller.agency))


@router.get("", response_model=ServiceReferralList, summary="A case's service referrals")
async def list_for_case(
    referral_id: Annotated[UUID, Query(description="The case whose service referrals to list.")],
    caller: CaseManager,
    read: Audited,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="`next_offset` of the previous page.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_SERVICE_REFERRALS, description="At most this many.")] = (
        MAX_SERVICE_REFERRALS
    ),
) -> Any:
    """Every service referral of the case, oldest first, each with its status history (who
    recorded each step, when, and a decline's reason). A case of another agency is 404. The
    read is recorded in the audit trail, with the `X-Divert-Purpose` given. A page at a time: a
    case's referrals only grow at the end of this order, so pages by position are stable."""
    if await find_case_facts(read.session, referral_id, agency=caller.agency) is None:
        raise NotFound(f"no case for referral {referral_id}")
    rows = await list_service_referrals(read.session, referral_id, offset=offset, limit=limit + 1)
    await read.record("service referral list", [str(referral_id)])
    following = offset + limit if len(rows) > limit else None
    return ServiceReferralList(
        referral_id=referral_id, items=[_render(row) for row in rows[:limit]], next_offset=following
    )


@router.get("/{service_referral_id}", response_model=ServiceReferralView, summary="A service referral")
async def get_one(service_referral_id: UUID, caller: CaseManager, read: Audited) -> Any:
    """The service referral with its status and whole history, oldest step first. One of a
    case of another agency is 404. The read is recorded in the audit trail."""
    row = await find_service_referral(read.session, service_referral_id, agency=caller.agency)
    if row is None:
        raise NotFound(f"no service referral {service_referral_id}")
    await read.record("service referral", [row["referral_id"]])
    return _render(row)


@router.post(
    "/{service_referral_id}/status",
    response_model=ServiceReferralView,
    summary="Record the provider's answer or the outcome",
    responses=problem_responses(409),
)
async def change_status(
    service_referral_id: UUID,
    body: StatusChangeRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Move the service referral on (published as `directory.service_referral_status_changed`):
    from `sent` to `accepted` or `declined` (with `reason` `no_capacity`, `not_eligible` or
    `other`), from `accepted` to `completed` or `no_show`. Any other step is 409 with
    `current_status` and `allowed`; a decline without a reason, or a reason with another
    status, is 422. A decline for `no_capacity` also marks the service at capacity."""
    command = ChangeServiceReferralStatus(
        service_referral_id, body.status, body.reason, agency=caller.agency, at=utcnow()
    )

    async def change() -> Ids:
        await handlers.change_service_referral_status(command, uow)
        return {"service_referral_id": service_referral_id}

    view = _as_it_stands(uow, caller.agency)
    # A writer racing with us (on this referral, or on the service's capacity) wins or loses on
    # the stream version; the retry starts afresh and sees what it committed.
    return await idempotency.run(uow, body, change, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


def _as_it_stands(uow: SqlDirectoryUnitOfWork, agency: str | None) -> View:
    """The answer of a change: the service referral as it stands (a 404 if not of the agency's case)."""

    async def view(ids: Ids) -> dict[str, Any]:
        row = await find_service_referral(uow.session, ids["service_referral_id"], agency=agency)
        if row is None:
            raise NotFound(f"no service referral {ids['service_referral_id']}")
        return _render(row).model_dump(mode="json")

    return view


def _render(row: dict[str, Any]) -> ServiceReferralView:
    return ServiceReferralView(**row, next_statuses=list(NEXT_STATUSES[row["status"]]))
