"""Intake's REST API: police RMS submit referrals, withdraw them and read their status; program
managers extend deadlines and read the audit trail. Who may call what is docs/access.md."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request, Response
from temporalio.client import Client

from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDateTime
from divert_intake.adapters.referral_queries import (
    InvalidCursor,
    ReferralFilter,
    find_jurisdiction,
    find_status,
    list_statuses,
)
from divert_intake.adapters.referrals import DuplicateActiveReferral
from divert_intake.bootstrap import Intake, bootstrap, connect_temporal
from divert_intake.domain.policy import JurisdictionPolicy
from divert_intake.domain.referral import InvalidReferral, InvalidTransition, Referral, SubmitReferral
from divert_intake.entrypoints.jurisdictions import jurisdictions_router
from divert_intake.entrypoints.schemas import (
    DecisionView,
    ExtensionRequest,
    ReasonView,
    ReferralPage,
    ReferralRequest,
    ReferralStatusView,
    Status,
    SubmittedReferral,
    WithdrawalRequest,
)
from divert_intake.entrypoints.scopes import ReferralScope, scope_of
from divert_intake.service_layer import handlers
from divert_platform.app import create_app
from divert_platform.audit import PURPOSE_HEADER, AuditTrail, audit_router, stated_purpose
from divert_platform.auth import Access, Principal
from divert_platform.clock import utcnow
from divert_platform.idempotency import IdempotencyKeys, request_fingerprint
from divert_platform.problems import Conflict, Forbidden, NotFound, Unprocessable, problem_responses

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: a repeat returns the first response."),
]
ReferralId = Annotated[UUID, Path(description="The id intake returned when the referral was submitted.")]
# Declared so the header is documented; `stated_purpose` reads (and trims) it.
PurposeHeader = Annotated[
    str | None,
    Header(alias=PURPOSE_HEADER, description="Why you read this (recorded in the audit trail with the read)."),
]


def build_api(intake: Intake) -> FastAPI:
    """The intake API over already-built parts (tests pass their own)."""
    temporal: dict[str, Client] = {}

    async def temporal_check() -> None:
        if "client" not in temporal:
            temporal["client"] = await connect_temporal(intake.settings)
        await temporal["client"].service_client.check_health()

    app = create_app(
        title="Divert intake",
        description="Referrals from police records-management systems, decided by each jurisdiction's rules. "
        "Police views show status only, never case content.",
        settings=intake.settings,
        engine=intake.engine,
        extra_checks={"temporal": temporal_check},
    )
    access: Access = app.state.access
    audit = AuditTrail(intake.sessions)
    app.include_router(_referrals_router(intake, access, audit))
    app.include_router(jurisdictions_router(intake.policies))  # published rules: public
    app.include_router(
        audit_router(
            access,
            audit,
            jurisdiction_of=lambda referral_id: _jurisdiction_of(intake, referral_id),
            streams_of=lambda referral_id: [f"referral-{referral_id}"],
        )
    )
    return app


async def _jurisdiction_of(intake: Intake, referral_id: str) -> str | None:
    async with intake.unit_of_work() as uow:
        return await find_jurisdiction(uow, referral_id)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "message": message, "code": "invalid"}])


def _policy_for(intake: Intake, body: ReferralRequest) -> JurisdictionPolicy:
    """The policy in force on the referral date, or a 422 naming the field that rules it out."""
    if intake.policies.latest(body.jurisdiction) is None:
        raise _invalid("body.jurisdiction", f"unknown jurisdiction {body.jurisdiction!r}")
    policy = intake.policies.effective_at(body.jurisdiction, body.referred_at)
    if policy is None:
        raise _invalid("body.referred_at", "referred_at is before the jurisdiction's first policy took effect")
    if body.pathway not in policy.pathways:
        raise _invalid("body.pathway", f"{policy.name} does not accept {body.pathway} referrals")
    if body.pathway == "arrest_diversion" and body.offense is None:
        raise _invalid("body.offense", "an arrest diversion needs the offense")
    if policy.minimum_age is not None and body.subject.date_of_birth is None:
        raise _invalid("body.subject.date_of_birth", f"{policy.name} has a minimum age: the date of birth is needed")
    return policy


def _status_view(intake: Intake, row: dict[str, Any]) -> ReferralStatusView:
    policy = intake.policies.latest(row["jurisdiction"])
    zone = policy.zone if policy else None
    return ReferralStatusView(
        referral_id=row["referral_id"],
        status=row["status"],
        pathway=row["pathway"],
        jurisdiction=row["jurisdiction"],
        assessment_due_by=row["assessment_due_by"].astimezone(zone) if row["assessment_due_by"] else None,
        assessed_on_time=row["assessed_on_time"],
        enrolled=row["enrolled"],
        warrant_requested=row["warrant_requested"],
    )


def _submitted(referral: Referral, policy: JurisdictionPolicy) -> dict[str, Any]:
    assert referral.decision is not None and referral.status is not None and referral.pathway is not None
    return SubmittedReferral(
        referral_id=referral.id,
        status=referral.status.value,  # type: ignore[arg-type]
        jurisdiction=policy.id,
        pathway=referral.pathway,
        decision=DecisionView(
            eligible=referral.decision.eligible,
            policy=referral.decision.policy,
            policy_version=referral.decision.policy_version,
            reasons=[ReasonView(code=r.code, message=r.message) for r in referral.decision.reasons],
        ),
        assessment_due_by=referral.assessment_due_by.astimezone(policy.zone) if referral.assessment_due_by else None,
    ).model_dump(mode="json")


def _referrals_router(intake: Intake, access: Access, audit: AuditTrail) -> APIRouter:
    router = APIRouter(
        prefix="/v1/referrals",
        tags=["referrals"],
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500),
    )
    anyone_who_reads = access.allow("officer", "program_manager")

    @router.post(
        "",
        status_code=201,
        response_model=SubmittedReferral,
        summary="Submit a referral",
        responses=problem_responses(415),
    )
    async def submit_referral(
        body: ReferralRequest,
        response: Response,
        principal: Annotated[Principal, Depends(access.allow("officer"))],
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Decide the referral under the jurisdiction's policy in force on its date, and record it.

        An eligible referral is `accepted` and published to case agencies; an ineligible one is
        `declined` (still 201: programs count every referral) with every reason it failed.
        Screening facts are used for the decision and discarded. Send an `Idempotency-Key` (unique
        within your agency) so a retry returns the first response; one active referral is allowed
        per RMS case and pathway.

        Officers only, for their own agency: `rms.agency` must be the token's `agency`, and
        `jurisdiction` the token's `jurisdiction` when it names one (403 otherwise).
        """
        scope = scope_of(principal)
        if body.rms.agency != scope.agency:
            raise Forbidden(f"an officer of {scope.agency} may not refer for {body.rms.agency}")
        if not scope.admits_jurisdiction(body.jurisdiction):
            raise Forbidden(f"this token may not refer to {body.jurisdiction}")
        policy = _policy_for(intake, body)
        fingerprint = request_fingerprint(body.model_dump(mode="json"))
        async with intake.unit_of_work() as uow:
            # Keys are the agency's own: two RMSs may well pick the same ones.
            keys = IdempotencyKeys(uow.session, f"referrals/{scope.agency}")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            command = SubmitReferral(
                referral_id=uuid4(),
                jurisdiction=body.jurisdiction,
                pathway=body.pathway,
                referred_at=body.referred_at,
                rms=body.rms,
                subject=body.subject,
                location=body.location,
                offense=body.offense,
                screening=body.screening,
                contact_drivers=tuple(body.contact_drivers),
            )
            try:
                referral = await handlers.submit_referral(uow, command, policy, utcnow(), principal.metadata())
            except InvalidReferral as error:
                raise _invalid(f"body.{error.field}", str(error)) from error
            except DuplicateActiveReferral as error:
                raise Conflict(str(error), existing_referral_id=error.existing_referral_id) from error
            view = _submitted(referral, policy)
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, 201, view)
            await uow.commit()
        return view

    @router.get("", response_model=ReferralPage, summary="Find and list referrals")
    async def list_referrals(
        request: Request,
        principal: Annotated[Principal, Depends(anyone_who_reads)],
        agency: Annotated[str | None, Query(max_length=64, description="RMS agency, e.g. SPD.")] = None,
        case_number: Annotated[str | None, Query(max_length=64, description="RMS case number.")] = None,
        jurisdiction: Annotated[str | None, Query(max_length=64)] = None,
        pathway: Pathway | None = None,
        status: Status | None = None,
        referred_from: Annotated[IsoDateTime | None, Query(description="Referred at or after (inclusive).")] = None,
        referred_to: Annotated[IsoDateTime | None, Query(description="Referred before (exclusive).")] = None,
        cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        purpose: PurposeHeader = None,
    ) -> ReferralPage:
        """Referrals matching every given filter, newest first, a page at a time (status views only).

        Only referrals the caller may see are listed: an officer's agency's, a program manager's
        jurisdiction's. Each referral listed is recorded in the audit trail with the purpose given.
        """
        scope = scope_of(principal)
        where = ReferralFilter(agency, case_number, jurisdiction, pathway, status, referred_from, referred_to)
        async with intake.unit_of_work() as uow:
            try:
                rows, next_cursor = await list_statuses(uow, where, scope=scope.as_filter(), cursor=cursor, limit=limit)
            except InvalidCursor as error:
                raise _invalid("query.cursor", str(error)) from error
        if rows:
            await audit.record_read(
                principal,
                resource="referral list",
                referral_ids=[row["referral_id"] for row in rows],
                purpose=stated_purpose(request),
            )
        return ReferralPage(items=[_status_view(intake, row) for row in rows], next_cursor=next_cursor)

    @router.get("/{referral_id}", response_model=ReferralStatusView, summary="A referral's status")
    async def get_referral(
        referral_id: ReferralId,
        request: Request,
        principal: Annotated[Principal, Depends(anyone_who_reads)],
        purpose: PurposeHeader = None,
    ) -> ReferralStatusView:
        """Status, pathway, jurisdiction, due time, and yes/no for assessed on time, enrolled and
        warrant requested — nothing else reaches police.

        A referral outside the caller's agency or jurisdiction is a 404. The read is recorded in
        the audit trail with the purpose given."""
        view = await _read_status(intake, referral_id, scope_of(principal))
        await audit.record_read(
            principal, resource="referral status", referral_ids=[str(referral_id)], purpose=stated_purpose(request)
        )
        return view

    @router.post(
        "/{referral_id}/withdrawal",
        response_model=ReferralStatusView,
        summary="Withdraw a referral",
        responses=problem_responses(415),
    )
    async def withdraw(
        referral_id: ReferralId,
        body: Annotated[WithdrawalRequest, Body()],
        principal: Annotated[Principal, Depends(anyone_who_reads)],
    ) -> ReferralStatusView:
        """Withdraw a referral made in error. Its assessment clock stops; no warrant may follow.

        Officers withdraw their agency's referrals, program managers their jurisdiction's."""
        scope = scope_of(principal)
        await _change(
            intake,
            referral_id,
            scope,
            lambda uow: handlers.withdraw_referral(uow, referral_id, body.reason, utcnow(), principal.metadata()),
        )
        return await _read_status(intake, referral_id, scope)

    @router.post(
        "/{referral_id}/extension",
        response_model=ReferralStatusView,
        summary="Extend the deadline",
        responses=problem_responses(415),
    )
    async def extend(
        referral_id: ReferralId,
        body: Annotated[ExtensionRequest, Body()],
        principal: Annotated[Principal, Depends(access.allow("program_manager"))],
    ) -> ReferralStatusView:
        """Move a pending arrest diversion's assessment due time later (program managers of its
        jurisdiction; several allowed)."""
        scope = scope_of(principal)
        await _change(
            intake,
            referral_id,
            scope,
            lambda uow: handlers.extend_deadline(
                uow, referral_id, body.assessment_due_by, body.reason, utcnow(), principal.metadata()
            ),
        )
        return await _read_status(intake, referral_id, scope)

    return router


async def _change(intake: Intake, referral_id: UUID, scope: ReferralScope, command: Any) -> None:
    """Run a command on one referral in a unit of work, mapping domain refusals to problems.

    A referral outside the caller's scope is a 404, exactly as if it did not exist."""
    async with intake.unit_of_work() as uow:
        row = await find_status(uow, referral_id)
        if row is None or not scope.admits(row):
            raise NotFound(f"no referral {referral_id}")
        try:
            await command(uow)
        except handlers.ReferralNotFound as error:
            raise NotFound(str(error)) from error
        except InvalidTransition as error:
            raise Conflict(str(error), current_state=str(error.current)) from error
        except InvalidReferral as error:
            raise _invalid(f"body.{error.field}", str(error)) from error
        await uow.commit()


async def _read_status(intake: Intake, referral_id: UUID, scope: ReferralScope) -> ReferralStatusView:
    async with intake.unit_of_work() as uow:
        row = await find_status(uow, referral_id)
    if row is None or not scope.admits(row):
        raise NotFound(f"no referral {referral_id}")
    return _status_view(intake, row)


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-intake api`)."""
    return build_api(bootstrap())
