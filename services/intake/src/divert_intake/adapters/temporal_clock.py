"""The deadline clock and the approval timer on Temporal: one `ReferralDeadlineWorkflow` per arrest
diversion, one `ReferralApprovalWorkflow` per referral waiting at an approval gate."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from divert_intake.deadline.approval_workflow import ReferralApprovalWorkflow
from divert_intake.deadline.models import (
    TASK_QUEUE,
    ApprovalTimerInput,
    AssessmentNotice,
    DeadlineInput,
    ExtensionNotice,
    WithdrawalNotice,
    approval_workflow_id,
    workflow_id,
)
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow


class TemporalDeadlineClock:
    """Starts and signals deadline workflows. Signals use signal-with-start, so a notice that
    overtakes `referral.accepted` still reaches the (then started) workflow.

    A workflow that completed (assessed, withdrawn, lapsed) is never restarted. One that failed
    is restarted only by `start` and `extend`: a failed clock is one whose lapse intake's record
    refused (a workflow someone else started under the referral's id, or one whose due time had
    moved), and the handlers call these two only for referrals whose window intake's record still
    holds open, with its due time. A notice that stops the clock (`record_assessment`, `withdraw`)
    never starts a run over a failed one: a refused lapse requested nothing, so there is nothing to
    stop, and a run started only to end at once would be a second clock for one referral.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, deadline: DeadlineInput) -> None:
        """Start the workflow; a running one is reused, a completed one is never restarted."""
        await self._start(deadline)

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        """Signal the completed assessment."""
        await self._start(deadline, "assessment_recorded", AssessmentNotice(completed_at=completed_at), stops=True)

    async def withdraw(self, deadline: DeadlineInput, withdrawn_at: datetime) -> None:
        """Signal the withdrawal."""
        await self._start(deadline, "withdrawn", WithdrawalNotice(withdrawn_at=withdrawn_at), stops=True)

    async def extend(self, deadline: DeadlineInput, assessment_due_by: datetime) -> None:
        """Signal the new due time, with the reminders of `deadline` (those before the new due time)."""
        notice = ExtensionNotice(
            assessment_due_by=assessment_due_by, assessment_reminders_at=deadline.assessment_reminders_at
        )
        await self._start(deadline, "deadline_extended", notice)

    async def _start(
        self,
        deadline: DeadlineInput,
        signal: str | None = None,
        notice: BaseModel | None = None,
        *,
        stops: bool = False,
    ) -> None:
        options: dict[str, Any] = {"start_signal": signal, "start_signal_args": [notice]} if signal else {}
        # A stopping notice may still start the first run (it overtook `referral.accepted`: the run
        # ends at once, and the late start finds it completed), never a run after a failed one.
        reuse = WorkflowIDReusePolicy.REJECT_DUPLICATE if stops else WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        try:
            await self._client.start_workflow(
                ReferralDeadlineWorkflow.run,
                deadline,
                id=workflow_id(deadline.referral_id),
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=reuse,
                **options,
            )
        except WorkflowAlreadyStartedError:
            pass  # it ran already (completed, or failed and `stops`): the referral's clock is settled


class TemporalApprovalTimer:
    """Starts approval timers: one `ReferralApprovalWorkflow` per referral waiting at its gate.

    A running timer is reused. A finished one may run again: the consumer starts a timer only for
    a referral intake's record shows waiting, and the activity decides nothing the record does
    not allow, so a second run is at worst a no-op, while refusing it would leave a referral whose
    first timer ended early (one started by hand under its id) waiting for ever.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, referral_id: str, decide_by: datetime) -> None:
        """Start the referral's timer, due at `decide_by`."""
        await self._client.start_workflow(
            ReferralApprovalWorkflow.run,
            ApprovalTimerInput(referral_id=referral_id, decide_by=decide_by),
            id=approval_workflow_id(referral_id),
            task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
