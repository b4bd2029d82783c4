"""Closed-loop service referrals over REST: refer a case's person to a service, follow the answer.

    POST /v1/service-referrals                 make one (consent-gated), 201
    GET  /v1/service-referrals?referral_id=    a case's service referrals, with history
    GET  /v1/service-referrals/{id}            one, with history
    POST /v1/service-referrals/{id}/status     accepted | declined (reason) | completed | no_show

Case managers of the agency owning the case only; any other case or referral is 404, as if it did
not exist. A referral needs a consent in force naming the service's organization for
`service_referral` or `care_coordination` (and marked `part2` for a Part 2 need): without one it
is 409 saying which consent is missing. A status the current one does not lead to is 409. Every
change is attributed to the caller's token and published on `divert.directory` via the outbox;
every read is recorded in the audit trail.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from divert_directory.adapters.case_facts import find_case_facts
from divert_directory.adapters.service_referrals import find_service_referral, list_service_referrals
from divert_directory.bootstrap import Directory
from divert_directory.domain.commands import ChangeServiceReferralStatus
from divert_directory.domain.errors import InvalidStatusChange, ReasonMisplaced
from divert_directory.domain.service_referral import NEXT_STATUSES
from divert_directory.entrypoints.callers import case_manager
from divert_directory.entrypoints.referral_problems import CONSENT_MISSING_RESPONSE, consent_missing, invalid
from divert_directory.entrypoints.referral_schemas import (
    ServiceReferralList,
    ServiceReferralRequest,
    ServiceReferralView,
    StatusChangeRequest,
)
from divert_directory.service_layer import service_referrals as handlers
from divert_platform.audit import PURPOSE_HEADER, AuditTrail, stated_purpose
from divert_platform.auth import Access, Principal
from divert_platform.clock import utcnow
from divert_platform.idempotency import IdempotencyKeys, request_fingerprint
from divert_platform.problems import Conflict, NotFound, problem_responses

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: a repeat returns the first response."),
]
# Declared so the header is documented; `stated_purpose` reads (and trims) it.
PurposeHeader = Annotated[
    str | None,
    Header(alias=PURPOSE_HEADER, max_length=200, description="Why you read this (recorded in the audit trail)."),
]


def service_referrals_router(directory: Directory, access: Access | None = None) -> APIRouter:
    """`/v1/service-referrals` for case managers of the agency owning each case."""
    access = access or Access(directory.settings)
    router = APIRouter(
        prefix="/v1/service-referrals",
        tags=["service referrals"],
        responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 500),
    )
    CaseManager = Annotated[Principal, Depends(case_manager(access))]
    trail = AuditTrail(directory.sessions)

    @router.post(
        "",
        status_code=201,
        response_model=ServiceReferralView,
        summary="Refer a case's person to a service",
        responses=problem_responses(409) | CONSENT_MISSING_RESPONSE,
    )
    async def make(
        body: ServiceReferralRequest, response: Response, principal: CaseManager, idempotency_key: IdempotencyKey = None
    ) -> Any:
        """Refer the person of case `referral_id` to service `service_id` for `need` (published as
        `directory.service_referral_made`); the referral starts `sent`.

        The service must be active, serve the case's jurisdiction and meet the need (422 naming
        the field otherwise); the case must not be closed (409). A consent in force — recorded,
        not revoked, not expired — must name the service's organization id among its parties, for
        `service_referral` or `care_coordination`, and be marked `part2` when the need is 42 CFR
        Part 2 protected (`substance_use_treatment`); otherwise 409 with `missing` saying which
        consent is needed. Send an `Idempotency-Key` so a retry returns the first response."""
        fingerprint, now = request_fingerprint(body.model_dump(mode="json")), utcnow()
        async with directory.unit_of_work() as uow:
            # keys are the agency's own, so a stored answer never reaches another agency
            keys = IdempotencyKeys(uow.session, f"service-referrals/{principal.agency}")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            request = handlers.ReferToService(body.referral_id, body.service_id, body.need)
            try:
                referral = await handlers.refer_to_service(
                    uow, directory.catalogue, request, agency=principal.agency, now=now, actor=principal.metadata()
                )
            except handlers.CaseNotFound as error:
                raise NotFound(str(error)) from error
            except handlers.ServiceNotFound as error:
                raise invalid("body.service_id", str(error)) from error
            except handlers.ServiceUnsuitable as error:
                raise invalid(f"body.{error.field}", str(error)) from error
            except handlers.CaseIsClosed as error:
                raise Conflict(str(error), current_state="closed") from error
            except handlers.ConsentMissing as error:
                raise consent_missing(error.decision) from error
            view = await _view(uow, referral.id, principal)
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, 201, view)
            await uow.commit()
        return view

    @router.get("", response_model=ServiceReferralList, summary="A case's service referrals")
    async def list_for_case(
        referral_id: Annotated[UUID, Query(description="The case whose service referrals to list.")],
        request: Request,
        principal: CaseManager,
        purpose: PurposeHeader = None,
    ) -> Any:
        """Every service referral of the case, oldest first, each with its status history (who
        recorded each step, when, and a decline's reason). A case of another agency is 404. The
        read is recorded in the audit trail, with the `X-Divert-Purpose` given."""
        async with directory.unit_of_work() as uow:
            if await find_case_facts(uow.session, referral_id, agency=principal.agency) is None:
                raise NotFound(f"no case for referral {referral_id}")
            rows = await list_service_referrals(uow, referral_id)
        await trail.record_read(
            principal,
            resource="service referral list",
            referral_ids=[str(referral_id)],
            purpose=stated_purpose(request),
        )
        return ServiceReferralList(referral_id=referral_id, items=[_render(row) for row in rows])

    @router.get("/{service_referral_id}", response_model=ServiceReferralView, summary="A service referral")
    async def get_one(
        service_referral_id: UUID, request: Request, principal: CaseManager, purpose: PurposeHeader = None
    ) -> Any:
        """The service referral with its status and whole history, oldest step first. One of a
        case of another agency is 404. The read is recorded in the audit trail."""
        async with directory.unit_of_work() as uow:
            row = await find_service_referral(uow, service_referral_id, agency=principal.agency)
        if row is None:
            raise NotFound(f"no service referral {service_referral_id}")
        await trail.record_read(
            principal, resource="service referral", referral_ids=[row["referral_id"]], purpose=stated_purpose(request)
        )
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
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Move the service referral on (published as `directory.service_referral_status_changed`):
        from `sent` to `accepted` or `declined` (with `reason` `no_capacity`, `not_eligible` or
        `other`), from `accepted` to `completed` or `no_show`. Any other step is 409 with
        `current_status` and `allowed`; a decline without a reason, or a reason with another
        status, is 422. A decline for `no_capacity` also marks the service at capacity."""
        request = {"service_referral_id": str(service_referral_id), **body.model_dump(mode="json")}
        fingerprint, now = request_fingerprint(request), utcnow()
        async with directory.unit_of_work() as uow:
            # before any replay, so a stored answer never reaches another agency
            if await find_service_referral(uow, service_referral_id, agency=principal.agency) is None:
                raise NotFound(f"no service referral {service_referral_id}")
            keys = IdempotencyKeys(uow.session, "service-referral-status")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            command = ChangeServiceReferralStatus(service_referral_id, body.status, body.reason)
            try:
                await handlers.change_service_referral_status(
                    uow, command, agency=principal.agency, now=now, actor=principal.metadata()
                )
            except handlers.ServiceReferralNotFound as error:
                raise NotFound(str(error)) from error
            except InvalidStatusChange as error:
                raise Conflict(str(error), current_status=error.current, allowed=list(error.allowed)) from error
            except ReasonMisplaced as error:
                raise invalid("body.reason", str(error)) from error
            view = await _view(uow, service_referral_id, principal)
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, 200, view)
            await uow.commit()
        return view

    return router


async def _view(uow: Any, service_referral_id: UUID, principal: Principal) -> dict[str, Any]:
    row = await find_service_referral(uow, service_referral_id, agency=principal.agency)
    assert row is not None  # just written, for a case of this agency
    return _render(row).model_dump(mode="json")


def _render(row: dict[str, Any]) -> ServiceReferralView:
    return ServiceReferralView(**row, next_statuses=list(NEXT_STATUSES[row["status"]]))
