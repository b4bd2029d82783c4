"""Referral routes: police RMS submit referrals, withdraw them and read their status; program
managers read and withdraw their jurisdiction's and extend deadlines. Who may call what is
docs/access.md (`callers.py`)."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDateTime
from divert_intake.adapters.referral_views import ReferralFilter, find_status, list_statuses
from divert_intake.bootstrap import Parts, UnitOfWork
from divert_intake.domain.commands import ExtendDeadline, SubmitReferral, WithdrawReferral
from divert_intake.domain.eligibility import Decision
from divert_intake.domain.policy import PolicyBook
from divert_intake.entrypoints.callers import Officer, ProgramManager, Reader, ReferralScope, scope_of
from divert_intake.entrypoints.schemas import (
    MAX_PAGE,
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
from divert_intake.service_layer import handlers
from divert_intake.service_layer.unit_of_work import SqlIntakeUnitOfWork
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotentRequest, Ids, Reply, View
from divert_platform.pagination import Cursor
from divert_platform.problems import Forbidden, NotFound, problem_responses
from divert_platform.text import FreeText, JurisdictionId

router = APIRouter(
    prefix="/v1/referrals",
    tags=["referrals"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500),
)

ReferralId = Annotated[UUID, Path(description="The id intake returned when the referral was submitted.")]


@router.post(
    "",
    status_code=201,
    response_model=SubmittedReferral,
    summary="Submit a referral",
    responses=problem_responses(415),
)
async def submit_referral(
    body: ReferralRequest, caller: Officer, intake: Parts, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Decide the referral under the jurisdiction's policy in force on its date, and record it.

    An eligible referral is `accepted` and published to case agencies; an ineligible one is
    `declined` (still 201: programs count every referral) with every reason it failed.
    Screening facts are used for the decision and discarded. Reasons resting on them (a
    conviction, probation, a treatment-court case, a no-contact order, dealing, exploitation,
    amenability, documented involvement) are given once, in this response: intake keeps and
    publishes only one `screening` reason in their place, beside the policy version.

    Send an `Idempotency-Key` so a retry makes no second referral (keys are the caller's own:
    another caller's same key never meets it): it gets 201 and the referral as kept now, its
    decision with `screening` in place of the screening reasons. One active referral is allowed
    per RMS case and pathway (409 with `existing_referral_id` otherwise).

    Officers only, for their own agency and jurisdiction: `rms.agency` must be the token's
    `agency` and `jurisdiction` the token's `jurisdiction` (a 403 whose `field` names the one
    at fault). A token without either claim, or with `jurisdiction: "*"`, is a 403.
    """
    scope = scope_of(caller)
    if body.rms.agency != scope.agency:
        raise Forbidden(f"an officer of {scope.agency} may not refer for {body.rms.agency}", field="body.rms.agency")
    if not scope.admits_jurisdiction(body.jurisdiction):
        raise Forbidden(f"this token may not refer to {body.jurisdiction}", field="body.jurisdiction")
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
        at=utcnow(),
    )

    async def submit() -> Reply:
        submission = await handlers.submit_referral(command, uow)
        # The officer is told every reason once, in this answer; a retry of a known key never
        # runs `submit`, so it gets the referral as kept, with no screening reason.
        told = _submitted(submission, submission.referral.decision_told)
        return Reply({"referral_id": submission.referral.id}, 201, answer=told)

    return await idempotency.run(uow, body, submit, view=_as_kept(uow, intake.policies, scope))


@router.get("", response_model=ReferralPage, summary="Find and list referrals")
async def list_referrals(
    caller: Reader,
    intake: Parts,
    read: Audited,
    agency: Annotated[FreeText | None, Query(max_length=64, description="RMS agency, e.g. SPD.")] = None,
    case_number: Annotated[FreeText | None, Query(max_length=64, description="RMS case number.")] = None,
    jurisdiction: Annotated[JurisdictionId | None, Query()] = None,
    pathway: Pathway | None = None,
    status: Status | None = None,
    referred_from: Annotated[IsoDateTime | None, Query(description="Referred at or after (inclusive).")] = None,
    referred_to: Annotated[IsoDateTime | None, Query(description="Referred before (exclusive).")] = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ReferralPage:
    """Referrals matching every given filter, newest first, a page at a time (status views only).

    Only referrals the caller may see are listed: an officer's agency's, a program manager's
    jurisdiction's. Each referral listed is recorded in the audit trail with the purpose given.
    """
    where = ReferralFilter(agency, case_number, jurisdiction, pathway, status, referred_from, referred_to)
    rows, next_cursor = await list_statuses(
        read.session, where, scope=scope_of(caller).as_filter(), cursor=cursor, limit=limit
    )
    await read.record("referral list", [row["referral_id"] for row in rows])
    return ReferralPage(items=[status_view(intake.policies, row) for row in rows], next_cursor=next_cursor)


@router.get("/{referral_id}", response_model=ReferralStatusView, summary="A referral's status")
async def get_referral(referral_id: ReferralId, caller: Reader, intake: Parts, read: Audited) -> ReferralStatusView:
    """Status, pathway, jurisdiction, due time, and yes/no for assessed on time, enrolled, case
    closed and warrant requested — nothing else reaches police.

    A referral outside the caller's agency or jurisdiction is a 404. The read is recorded in
    the audit trail with the purpose given."""
    row = await visible_row(read.session, referral_id, scope_of(caller))
    await read.record("referral status", [str(referral_id)])
    return status_view(intake.policies, row)


@router.post(
    "/{referral_id}/withdrawal",
    response_model=ReferralStatusView,
    summary="Withdraw a referral",
    responses=problem_responses(415),
)
async def withdraw_referral(
    referral_id: ReferralId,
    body: Annotated[WithdrawalRequest, Body()],
    caller: Reader,
    intake: Parts,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Withdraw a referral made in error. Its assessment clock stops; no warrant may follow.

    Officers withdraw their agency's referrals, program managers their jurisdiction's (a 404
    for any other). Withdrawing a referral that is not accepted, assessed or lapsed is a 409
    whose `current_state` says where it stands."""
    scope, command = scope_of(caller), WithdrawReferral(referral_id, body.reason, at=utcnow())

    async def withdraw() -> Ids:
        await visible_row(uow.session, referral_id, scope)
        await handlers.withdraw_referral(command, uow)
        return {"referral_id": referral_id}

    view = status_now(uow, intake.policies, scope)
    # A consumer noting news on the same referral may win the race for its stream; the retry sees it.
    return await idempotency.run(uow, body, withdraw, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


@router.post(
    "/{referral_id}/extension",
    response_model=ReferralStatusView,
    summary="Extend the deadline",
    responses=problem_responses(415),
)
async def extend_deadline(
    referral_id: ReferralId,
    body: Annotated[ExtensionRequest, Body()],
    caller: ProgramManager,
    intake: Parts,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Move a pending arrest diversion's assessment due time later (program managers of its
    jurisdiction; several allowed). A due time not later than the one in force, or already
    past, is a 422; a referral with no pending deadline is a 409."""
    scope = scope_of(caller)
    command = ExtendDeadline(referral_id, body.assessment_due_by, body.reason, at=utcnow())

    async def extend() -> Ids:
        await visible_row(uow.session, referral_id, scope)
        await handlers.extend_deadline(command, uow)
        return {"referral_id": referral_id}

    view = status_now(uow, intake.policies, scope)
    return await idempotency.run(uow, body, extend, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


async def visible_row(session: AsyncSession, referral_id: UUID, scope: ReferralScope) -> dict[str, Any]:
    """The referral's status row; a 404, exactly as if it did not exist, outside the caller's scope."""
    row = await find_status(session, referral_id)
    if row is None or not scope.admits(row):
        raise NotFound(f"no referral {referral_id}")
    return row


def status_now(uow: SqlIntakeUnitOfWork, policies: PolicyBook, scope: ReferralScope) -> View:
    """The answer of a command on a referral: its status view as it stands (a 404 outside `scope`)."""

    async def view(ids: Ids) -> dict[str, Any]:
        return status_view(policies, await visible_row(uow.session, ids["referral_id"], scope)).model_dump(mode="json")

    return view


def _as_kept(uow: SqlIntakeUnitOfWork, policies: PolicyBook, scope: ReferralScope) -> View:
    """The answer to a submission as intake keeps it, with the kept decision (what a retry gets)."""

    async def view(ids: Ids) -> dict[str, Any]:
        row = await visible_row(uow.session, ids["referral_id"], scope)
        decision = DecisionView.model_validate(row["decision"])
        policy = policies.version(row["jurisdiction"], decision.policy_version) or policies.latest(row["jurisdiction"])
        due = row["assessment_due_by"]
        return SubmittedReferral(
            referral_id=row["referral_id"],
            status=_decided_status(row["status"], decision.eligible),
            jurisdiction=row["jurisdiction"],
            pathway=row["pathway"],
            decision=decision,
            assessment_due_by=due.astimezone(policy.zone) if due and policy else due,
            approval_due_by=_local(row["approval_due_by"], policy.zone if policy else None),
        ).model_dump(mode="json")

    return view


def status_view(policies: PolicyBook, row: dict[str, Any]) -> ReferralStatusView:
    policy = policies.latest(row["jurisdiction"])
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
        case_closed=row["closed"],
        approval_due_by=_local(row["approval_due_by"], zone),
    )


def _submitted(submission: handlers.Submission, decision: Decision | None) -> dict[str, Any]:
    """The answer to a submission, giving `decision`: the one told to the officer, or the kept one."""
    referral, policy = submission.referral, submission.policy
    assert decision is not None and referral.pathway is not None, "a submitted referral is decided"
    waiting = referral.approval
    return SubmittedReferral(
        referral_id=referral.id,
        status=_decided_status(referral.status, decision.eligible),
        jurisdiction=policy.id,
        pathway=referral.pathway,
        decision=DecisionView(
            eligible=decision.eligible,
            policy=decision.policy,
            policy_version=decision.policy_version,
            reasons=[ReasonView(code=r.code, message=r.message) for r in decision.reasons],
        ),
        assessment_due_by=referral.assessment_due_by.astimezone(policy.zone) if referral.assessment_due_by else None,
        approval_due_by=_local(waiting.decide_by if waiting else None, policy.zone),
    ).model_dump(mode="json")


def _decided_status(status: str | None, eligible: bool) -> Literal["pending_approval", "accepted", "declined"]:
    """What a submission's answer says: waiting at the gate, or the rules' decision applied."""
    if status == "pending_approval":
        return "pending_approval"
    return "accepted" if eligible else "declined"


def _local(moment: datetime | None, zone: ZoneInfo | None) -> datetime | None:
    return moment.astimezone(zone) if moment is not None and zone is not None else moment
