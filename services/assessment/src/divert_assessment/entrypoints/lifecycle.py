"""The case lifecycle over REST: one POST per command, each answering with the case as it now stands.

Status codes are the same everywhere: 201 when the request adds a record under the case (the
assessment, a contact, a consent), 200 when it changes the case's state (manager, revocation,
enrollment, decline, engagement, closure, reopening). Every answer is the case view, except a new
consent, which answers with the consent itself (its `consent_id` is what revoking it needs).
A command the case's state does not allow is 409 with `current_state`; a time in the future or
before the referral is 422 naming the field. Send an `Idempotency-Key` to make a retry safe.

Only case managers of the agency owning the case may send these (another agency's case is 404, as
if it did not exist); every event is attributed to the caller's token (actor, role, agency).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel

from divert_assessment.adapters.cases import find_case, find_consents
from divert_assessment.bootstrap import Assessment
from divert_assessment.domain import commands
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_assessment.domain.rules import names_no_enforcement_party
from divert_assessment.entrypoints import schemas
from divert_assessment.entrypoints.actors import case_manager
from divert_assessment.entrypoints.schemas import CaseView, ConsentView
from divert_assessment.entrypoints.views import case_view, consent_view
from divert_assessment.service_layer import handlers
from divert_platform.auth import Access, Principal
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotencyKeys, request_fingerprint
from divert_platform.problems import Conflict, NotFound, Unprocessable, problem_responses
from divert_platform.unit_of_work import UnitOfWork

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: a repeat returns the first response."),
]
Render = Callable[[UnitOfWork, datetime, str], Awaitable[Any]]
"""Renders the answer inside the command's transaction, for the caller's agency."""


def lifecycle_router(assessment: Assessment, access: Access) -> APIRouter:
    """The lifecycle commands of `/v1/cases/{referral_id}`, for case managers of the owning agency."""
    router = APIRouter(
        prefix="/v1/cases",
        tags=["case lifecycle"],
        responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 500),
    )
    CaseManager = Annotated[Principal, Depends(case_manager(access))]
    enforcement_parties = assessment.settings.enforcement_parties

    async def run(
        scope: str,
        command: commands.CaseCommand,
        body: BaseModel | None,
        response: Response,
        idempotency_key: str | None,
        principal: Principal,
        status_code: int = 200,
        render: Render | None = None,
        path: dict[str, str] | None = None,
    ) -> Any:
        """Handle `command` and answer with `render` (the case view by default), all in one transaction."""
        # The path is part of the fingerprint: one key reused for another case is a conflict.
        request = {"referral_id": str(command.referral_id), **(path or {})}
        request |= body.model_dump(mode="json") if body else {}
        fingerprint, now = request_fingerprint(request), utcnow()
        async with assessment.unit_of_work() as uow:
            # before any replay, so a stored answer never reaches another agency
            if await find_case(uow, command.referral_id, agency=principal.agency) is None:
                raise NotFound(f"no case for referral {command.referral_id}")
            keys = IdempotencyKeys(uow.session, f"case-{scope}")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            await _handle(uow, command, now, principal.metadata())
            view = await (render or _render_case(command.referral_id))(uow, now, principal.agency or "")
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, status_code, view)
            await uow.commit()
        response.status_code = status_code
        return view

    @router.post("/{referral_id}/manager", response_model=CaseView, summary="Assign the case manager")
    async def assign_manager(
        referral_id: UUID,
        body: schemas.ManagerRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Give an open case to a case manager (published as `case.manager_assigned`), of the
        caller's agency unless `agency` says otherwise. Assigning the manager the case already has
        is 409."""
        command = commands.AssignManager(referral_id, body.case_manager_id, body.agency or principal.agency)
        return await run("managers", command, body, response, idempotency_key, principal)

    @router.post("/{referral_id}/contacts", status_code=201, response_model=CaseView, summary="Record a contact")
    async def record_contact(
        referral_id: UUID,
        body: schemas.ContactRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Record a contact attempted or made, in any open state (published as `case.contact_recorded`).
        The first contact `made` is the warm hand-off: it sets `first_contact_at` and is published
        with `first_made`. `at` may not be in the future or before the referral."""
        command = commands.RecordContact(referral_id, uuid4(), body.at, body.method, body.outcome)
        return await run("contacts", command, body, response, idempotency_key, principal, 201)

    @router.post("/{referral_id}/consents", status_code=201, response_model=ConsentView, summary="Record a consent")
    async def record_consent(
        referral_id: UUID,
        body: schemas.ConsentRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Record the person's consent to share with the named parties, for a purpose and a scope,
        until `expires_at` (which must be in the future). Mark `part2` when it covers 42 CFR
        Part 2 substance-use-treatment information. Answers with the consent and its `consent_id`;
        published as `case.consent_recorded`. A consent naming police, prosecution or a court
        (`DIVERT_ENFORCEMENT_PARTIES`, or a unit of one) is 422 naming `body.parties`: case
        information is never shared for enforcement (LEAD's golden rule; 42 CFR Part 2)."""
        if violation := names_no_enforcement_party(body.parties, enforcement_parties):
            raise _unprocessable(RulesBroken([violation]))
        consent_id = uuid4()
        command = commands.RecordConsent(
            referral_id, consent_id, tuple(body.parties), body.purpose, body.scope, body.part2, body.expires_at
        )
        return await run(
            "consents",
            command,
            body,
            response,
            idempotency_key,
            principal,
            201,
            _render_consent(referral_id, consent_id),
        )

    @router.post("/{referral_id}/consents/{consent_id}/revocation", response_model=CaseView, summary="Revoke a consent")
    async def revoke_consent(
        referral_id: UUID,
        consent_id: UUID,
        response: Response,
        principal: CaseManager,
        body: schemas.EmptyRequest | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """The person withdraws a consent; sharing under it stops (published as
        `case.consent_revoked`). Allowed in every state, a closed case included. An unknown
        consent is 404; one already revoked is 409."""
        command = commands.RevokeConsent(referral_id, consent_id)
        return await run(
            "revocations", command, body, response, idempotency_key, principal, path={"consent_id": str(consent_id)}
        )

    @router.post("/{referral_id}/assessment", status_code=201, response_model=CaseView, summary="Record the assessment")
    async def complete_assessment(
        referral_id: UUID,
        body: schemas.AssessmentRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Record the completed intake assessment of a case pending assessment.

        The assessment is judged on time when completed at or before the case's due time, and is
        published as `case.assessment_completed` (which stops an arrest diversion's deadline);
        needs about substance-use treatment are labelled `part2`. A case can be assessed once:
        a second attempt is 409 with the case's `current_state`. `completed_at` may not be in the
        future or before the referral.
        """
        needs = tuple(commands.NeedFound(domain=need.domain, priority=need.priority) for need in body.needs)
        command = commands.CompleteAssessment(referral_id, body.completed_at, body.case_manager_id, needs)
        return await run("assessments", command, body, response, idempotency_key, principal, 201)

    @router.post("/{referral_id}/enrollment", response_model=CaseView, summary="Enroll the participant")
    async def enroll(
        referral_id: UUID,
        body: schemas.EnrollmentRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """The assessed person enrolls; their engagement starts `active` (published as
        `case.participant_enrolled`). Only an assessed case can enroll. `enrolled_at` may not be in
        the future, before the referral or before the assessment."""
        command = commands.Enroll(referral_id, body.enrolled_at)
        return await run("enrollments", command, body, response, idempotency_key, principal)

    @router.post("/{referral_id}/decline", response_model=CaseView, summary="Record that the person declined")
    async def decline(
        referral_id: UUID,
        body: schemas.DeclineRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """The assessed person chooses not to enroll, with a reason code (published as
        `case.participant_declined`). Only an assessed case can decline; it stays open until closed."""
        command = commands.Decline(referral_id, body.reason)
        return await run("declines", command, body, response, idempotency_key, principal)

    @router.post("/{referral_id}/engagement", response_model=CaseView, summary="Change the engagement")
    async def change_engagement(
        referral_id: UUID,
        body: schemas.EngagementRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Mark an enrolled participant `active` or `inactive` (published as
        `case.engagement_changed`); people do not "fail out". Only for enrolled cases; setting the
        engagement the participant already has is 409."""
        command = commands.ChangeEngagement(referral_id, body.status)
        return await run("engagements", command, body, response, idempotency_key, principal)

    @router.post("/{referral_id}/closure", response_model=CaseView, summary="Close the case")
    async def close(
        referral_id: UUID,
        body: schemas.ClosureRequest,
        response: Response,
        principal: CaseManager,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Close an open case with a reason code (published as `case.closed`). `closed_at` may not
        be in the future or before the case opened. A later referral of the same person (same
        RMS agency and person id) opens a new case linked to this one."""
        command = commands.Close(referral_id, body.reason, body.closed_at)
        return await run("closures", command, body, response, idempotency_key, principal)

    @router.post("/{referral_id}/reopening", response_model=CaseView, summary="Reopen the case")
    async def reopen(
        referral_id: UUID,
        response: Response,
        principal: CaseManager,
        body: schemas.EmptyRequest | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Reopen a closed case (published as `case.reopened`): it returns to the state it had when
        it was closed (an enrolled participant with their engagement), and its closure is cleared."""
        return await run("reopenings", commands.Reopen(referral_id), body, response, idempotency_key, principal)

    return router


def _render_case(referral_id: UUID) -> Render:
    async def render(uow: UnitOfWork, now: datetime, agency: str) -> Any:
        row = await find_case(uow, referral_id, agency=agency)
        assert row is not None  # the agency's, checked and written in this transaction
        return case_view(row, await find_consents(uow, referral_id), now).model_dump(mode="json")

    return render


def _render_consent(referral_id: UUID, consent_id: UUID) -> Render:
    async def render(uow: UnitOfWork, now: datetime, agency: str) -> Any:
        [consent] = [c for c in await find_consents(uow, referral_id) if c["consent_id"] == str(consent_id)]
        return consent_view(consent, now).model_dump(mode="json")

    return render


async def _handle(uow: UnitOfWork, command: commands.CaseCommand, now: datetime, actor: dict[str, Any]) -> None:
    """Run the handler, turning the case's refusals into problem responses."""
    try:
        await handlers.handle(uow, command, now, actor)
    except (handlers.CaseNotFound, ConsentNotFound) as error:
        raise NotFound(str(error)) from error
    except InvalidTransition as error:
        extensions: dict[str, Any] = {"current_state": error.current_state}
        if error.engagement:
            extensions["engagement"] = error.engagement
        raise Conflict(str(error), **extensions) from error
    except ConsentAlreadyRevoked as error:
        raise Conflict(str(error), consent_id=str(error.consent_id), revoked_at=error.revoked_at.isoformat()) from error
    except ConcurrencyConflict as error:
        raise Conflict("the case changed while this request ran; reload it and retry") from error
    except RulesBroken as error:
        raise _unprocessable(error) from error


def _unprocessable(error: RulesBroken) -> Unprocessable:
    """A 422 naming each request field a broken rule is about."""
    errors = [{"field": f"body.{v.field}", "message": v.message, "code": v.code} for v in error.violations]
    return Unprocessable(str(error), errors=errors)
