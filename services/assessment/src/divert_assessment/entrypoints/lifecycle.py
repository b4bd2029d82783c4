"""The case lifecycle over REST: one POST per command, each answering with the case as it now stands.

Status codes are the same everywhere: 201 when the request adds a record under the case (the
assessment, a contact, a consent), 200 when it changes the case's state (manager, revocation,
enrollment, decline, engagement, closure, reopening). Every answer is the case view, except a new
consent, which answers with the consent itself (its `consent_id` is what revoking it needs).
A command the case's state does not allow is 409 with `current_state`; a time in the future or
before the referral is 422 naming the field. Send an `Idempotency-Key` to make a retry safe: it
records nothing again and answers with the first status and the case (or consent) as it now
stands. A key belongs to its caller (token subject, role and agency) and route, and keeps only
ids, never case content.

Only case managers of the agency owning the case may send these (another agency's case is 404, as
if it did not exist); every event is attributed to the caller's token (actor, role, agency).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from fastapi import APIRouter

from divert_assessment.adapters.case_queries import find_case, find_consent, find_consents
from divert_assessment.bootstrap import Organisations, UnitOfWork
from divert_assessment.domain import commands
from divert_assessment.domain.errors import ConsentNotFound, RulesBroken
from divert_assessment.domain.rules import each_party_may_receive
from divert_assessment.entrypoints import schemas
from divert_assessment.entrypoints.callers import CaseManager
from divert_assessment.entrypoints.schemas import CaseView, ConsentView
from divert_assessment.entrypoints.views import case_view, consent_view
from divert_assessment.service_layer import handlers
from divert_assessment.service_layer.handlers import CaseNotFound
from divert_assessment.service_layer.unit_of_work import AssessmentUnitOfWork, SqlAssessmentUnitOfWork
from divert_platform.auth import Principal
from divert_platform.clock import utcnow
from divert_platform.idempotency import IdempotentRequest, Ids, View, Work
from divert_platform.problems import problem_responses

C = TypeVar("C", bound=commands.CaseCommand)
Handler = Callable[[C, AssessmentUnitOfWork], Awaitable[object]]

router = APIRouter(
    prefix="/v1/cases",
    tags=["case lifecycle"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 500),
)


@router.post("/{referral_id}/manager", response_model=CaseView, summary="Assign the case manager")
async def assign_manager(
    referral_id: UUID,
    body: schemas.ManagerRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Give an open case to a case manager (published as `case.manager_assigned`), of the
    caller's agency unless `agency` says otherwise. Assigning the manager the case already has
    is 409."""
    command = commands.AssignManager(referral_id, body.case_manager_id, body.agency or caller.agency, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.assign_manager, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/contacts", status_code=201, response_model=CaseView, summary="Record a contact")
async def record_contact(
    referral_id: UUID,
    body: schemas.ContactRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Record a contact attempted or made, in any open state (published as `case.contact_recorded`).
    The first contact `made` is the warm hand-off: it sets `first_contact_at` and is published
    with `first_made`. `at` may not be in the future or before the referral."""
    command = commands.RecordContact(referral_id, uuid4(), body.at, body.method, body.outcome, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.record_contact, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/consents", status_code=201, response_model=ConsentView, summary="Record a consent")
async def record_consent(
    referral_id: UUID,
    body: schemas.ConsentRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
    organisations: Organisations,
) -> Any:
    """Record the person's consent to share with the named parties, for a purpose and a scope,
    until `expires_at` (which must be in the future). Mark `part2` when it covers 42 CFR
    Part 2 substance-use-treatment information. Answers with the consent and its `consent_id`;
    published as `case.consent_recorded`. Each party must be a registered organisation
    (`GET /v1/organisations`), named by its id: any other is 422 `unregistered_party` naming
    its place (`body.parties.2`). Police, prosecution, courts, supervision and jails are 422
    `enforcement_party` even when registered: case information is never shared for
    enforcement (LEAD's golden rule; 42 CFR Part 2)."""
    if violations := each_party_may_receive(body.parties, organisations):
        raise RulesBroken(violations)
    command = commands.RecordConsent(
        referral_id,
        uuid4(),
        tuple(body.parties),
        body.purpose,
        body.scope,
        body.part2,
        body.expires_at,
        at=utcnow(),
    )

    async def record() -> Ids:
        await _of_the_callers_agency(uow, referral_id, caller)
        await handlers.record_consent(command, uow)
        return {"consent_id": command.consent_id}

    return await idempotency.run(uow, body, record, view=_consent_now(uow, referral_id, caller, command.at))


@router.post("/{referral_id}/consents/{consent_id}/revocation", response_model=CaseView, summary="Revoke a consent")
async def revoke_consent(
    referral_id: UUID,
    consent_id: UUID,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
    body: schemas.EmptyRequest | None = None,
) -> Any:
    """The person withdraws a consent; sharing under it stops (published as
    `case.consent_revoked`). Allowed in every state, a closed case included. An unknown
    consent is 404; one already revoked is 409."""
    command = commands.RevokeConsent(referral_id, consent_id, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.revoke_consent, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/assessment", status_code=201, response_model=CaseView, summary="Record the assessment")
async def complete_assessment(
    referral_id: UUID,
    body: schemas.AssessmentRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Record the completed intake assessment of a case pending assessment.

    The assessment is judged on time when completed at or before the case's due time, and is
    published as `case.assessment_completed` (which stops an arrest diversion's deadline);
    needs about substance-use treatment are labelled `part2`. A case can be assessed once:
    a second attempt is 409 with the case's `current_state`. `completed_at` may not be in the
    future or before the referral.
    """
    needs = tuple(commands.NeedFound(domain=need.domain, priority=need.priority) for need in body.needs)
    command = commands.CompleteAssessment(referral_id, body.completed_at, body.case_manager_id, needs, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.complete_assessment, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/enrollment", response_model=CaseView, summary="Enroll the participant")
async def enroll(
    referral_id: UUID,
    body: schemas.EnrollmentRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """The assessed person enrolls; their engagement starts `active` (published as
    `case.participant_enrolled`). Only an assessed case can enroll. `enrolled_at` may not be in
    the future, before the referral or before the assessment."""
    command = commands.Enroll(referral_id, body.enrolled_at, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.enroll, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/decline", response_model=CaseView, summary="Record that the person declined")
async def decline(
    referral_id: UUID,
    body: schemas.DeclineRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """The assessed person chooses not to enroll, with a reason code (published as
    `case.participant_declined`). Only an assessed case can decline; it stays open until closed."""
    command = commands.Decline(referral_id, body.reason, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.decline, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/engagement", response_model=CaseView, summary="Change the engagement")
async def change_engagement(
    referral_id: UUID,
    body: schemas.EngagementRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Mark an enrolled participant `active` or `inactive` (published as
    `case.engagement_changed`); people do not "fail out". Only for enrolled cases; setting the
    engagement the participant already has is 409."""
    command = commands.ChangeEngagement(referral_id, body.status, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.change_engagement, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/closure", response_model=CaseView, summary="Close the case")
async def close(
    referral_id: UUID,
    body: schemas.ClosureRequest,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Close an open case with a reason code (published as `case.closed`). `closed_at` may not
    be in the future or before the case opened. A later referral of the same person (same
    RMS agency and person id) opens a new case linked to this one."""
    command = commands.Close(referral_id, body.reason, body.closed_at, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.close, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


@router.post("/{referral_id}/reopening", response_model=CaseView, summary="Reopen the case")
async def reopen(
    referral_id: UUID,
    caller: CaseManager,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
    body: schemas.EmptyRequest | None = None,
) -> Any:
    """Reopen a closed case (published as `case.reopened`): it returns to the state it had when
    it was closed (an enrolled participant with their engagement), and its closure is cleared."""
    command = commands.Reopen(referral_id, at=utcnow())
    return await idempotency.run(
        uow, body, _changed(handlers.reopen, command, uow, caller), view=_case_now(uow, caller, command.at)
    )


def _changed(handler: Handler[C], command: C, uow: SqlAssessmentUnitOfWork, caller: Principal) -> Work:
    """The work of a command on a case: apply it to a case of the caller's agency; the case's id."""

    async def work() -> Ids:
        await _of_the_callers_agency(uow, command.referral_id, caller)
        await handler(command, uow)
        return {"referral_id": command.referral_id}

    return work


def _case_now(uow: SqlAssessmentUnitOfWork, caller: Principal, now: datetime) -> View:
    """The answer of a command on a case: the case as it stands (a 404 if not the caller's agency's)."""

    async def view(ids: Ids) -> dict[str, Any]:
        referral_id = ids["referral_id"]
        row = await find_case(uow.session, referral_id, agency=caller.agency)
        if row is None:
            raise CaseNotFound(referral_id)
        return case_view(row, await find_consents(uow.session, referral_id), now).model_dump(mode="json")

    return view


def _consent_now(uow: SqlAssessmentUnitOfWork, referral_id: UUID, caller: Principal, now: datetime) -> View:
    """The answer to a new consent: the consent as it stands, of a case of the caller's agency."""

    async def view(ids: Ids) -> dict[str, Any]:
        await _of_the_callers_agency(uow, referral_id, caller)
        consent = await find_consent(uow.session, ids["consent_id"])
        if consent is None or consent["referral_id"] != str(referral_id):
            raise ConsentNotFound(ids["consent_id"])
        return consent_view(consent, now).model_dump(mode="json")

    return view


async def _of_the_callers_agency(uow: SqlAssessmentUnitOfWork, referral_id: UUID, caller: Principal) -> None:
    """Refuse another agency's case as if it did not exist, before the handler runs."""
    if await find_case(uow.session, referral_id, agency=caller.agency) is None:
        raise CaseNotFound(referral_id)
