"""The deadline clock on Temporal: one `ReferralDeadlineWorkflow` per arrest diversion."""

from datetime import datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from divert_intake.deadline.models import TASK_QUEUE, AssessmentNotice, DeadlineInput, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow


class TemporalDeadlineClock:
    """Starts and signals deadline workflows; every call is safe to repeat."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, deadline: DeadlineInput) -> None:
        """Start the workflow; a running one is reused and a finished one is never restarted."""
        try:
            await self._client.start_workflow(
                ReferralDeadlineWorkflow.run,
                deadline,
                id=workflow_id(deadline.referral_id),
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass  # it ran and finished already: the referral's clock is settled

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        """Signal the assessment, starting the workflow first if its start has not happened yet."""
        try:
            await self._client.start_workflow(
                ReferralDeadlineWorkflow.run,
                deadline,
                id=workflow_id(deadline.referral_id),
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal="assessment_recorded",
                start_signal_args=[AssessmentNotice(completed_at=completed_at)],
            )
        except WorkflowAlreadyStartedError:
            pass  # the clock already stopped (assessed or lapsed); nothing left to tell it
        except RPCError as error:
            if error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
