"""Approval routes: where a jurisdiction's policy requires a human decision before a referral is
accepted (`[approval]`), its prosecutor or program manager reads the queue of waiting referrals
and approves or denies each, with a reason code. Who may call what is docs/access.md."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query

from divert_intake.adapters.referral_views import list_awaiting_approval
from divert_intake.bootstrap import Parts, UnitOfWork
from divert_intake.domain.commands import DecideApproval
from divert_intake.entrypoints.callers import Approver, scope_of
from divert_intake.entrypoints.referrals import status_now, visible_row
from divert_intake.entrypoints.schemas import (
    MAX_PAGE,
    ApprovalPage,
    ApprovalRequest,
    ApprovalView,
    DecisionView,
    ReferralStatusView,
)
from divert_intake.service_layer import handlers
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotentRequest, Ids
from divert_platform.pagination import Cursor
from divert_platform.problems import Forbidden, problem_responses
from divert_platform.text import JurisdictionId

router = APIRouter(tags=["approvals"], responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500))


@router.get("/v1/approvals", response_model=ApprovalPage, summary="Referrals awaiting your approval")
async def list_approvals(
    caller: Approver,
    read: Audited,
    jurisdiction: Annotated[JurisdictionId | None, Query(description="Only this jurisdiction's.")] = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ApprovalPage:
    """The referrals of the caller's jurisdiction waiting for the caller's role (the approver
    their policy names), the one whose policy rule applies soonest first.

    Status only: the rules' recommendation with its kept reasons, the RMS reference, when it was
    referred and when the policy decides if nobody has; never the person's details or screening
    answers. Each referral listed is recorded in the audit trail with the purpose given."""
    scope = scope_of(caller)
    if jurisdiction is not None and not scope.admits_jurisdiction(jurisdiction):
        raise Forbidden(f"this token may not read {jurisdiction}'s approvals", field="jurisdiction")
    rows, next_cursor = await list_awaiting_approval(
        read.session, caller.role, jurisdiction=jurisdiction or scope.jurisdiction, cursor=cursor, limit=limit
    )
    await read.record("approval queue", [row["referral_id"] for row in rows])
    return ApprovalPage(items=[_approval_view(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/v1/referrals/{referral_id}/approval",
    response_model=ReferralStatusView,
    summary="Approve or deny a referral",
    responses=problem_responses(415),
)
async def decide_approval(
    referral_id: Annotated[UUID, Path(description="The referral waiting for approval.")],
    body: Annotated[ApprovalRequest, Body()],
    caller: Approver,
    intake: Parts,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Accept (`approve`) or decline (`deny`) a referral waiting for the caller's role, giving a
    reason code. Accepting starts an arrest diversion's assessment window now. Accepting a
    referral the rules declined overrides them: the reason may not be `meets_criteria`, and who
    decided and why are kept in the referral's audit trail, as for every decision.

    A referral outside the caller's jurisdiction is a 404; one whose policy names the other
    approver is a 403; one no longer waiting (decided, withdrawn, or decided by its policy's
    rule) is a 409 with `current_state`; a reason code that cannot justify the decision is a
    422 naming `body.reason_code`."""
    scope = scope_of(caller)
    command = DecideApproval(referral_id, body.decision, body.reason_code, caller.role, at=utcnow())

    async def decide() -> Ids:
        await visible_row(uow.session, referral_id, scope)
        await handlers.decide_approval(command, uow)
        return {"referral_id": referral_id}

    view = status_now(uow, intake.policies, scope)
    # The approval timer deciding the same referral may win the race for its stream; the retry sees it.
    return await idempotency.run(uow, body, decide, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


def _approval_view(row: dict[str, Any]) -> ApprovalView:
    return ApprovalView(
        referral_id=row["referral_id"],
        jurisdiction=row["jurisdiction"],
        pathway=row["pathway"],
        agency=row["agency"],
        case_number=row["case_number"],
        referred_at=row["referred_at"],
        approver=row["approval_by"],
        approval_due_by=row["approval_due_by"],
        recommendation=DecisionView.model_validate(row["decision"]),
    )
