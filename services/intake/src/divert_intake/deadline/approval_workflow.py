"""`ReferralApprovalWorkflow`: the durable timer of a referral waiting at its policy's approval gate."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from divert_intake.deadline.activities import DeadlineActivities
    from divert_intake.deadline.models import ApprovalTimerInput
    from divert_intake.deadline.workflows import WARRANTS_RETRY


@workflow.defn
class ReferralApprovalWorkflow:
    """Sleeps until the approval's decide-by time, then asks intake to apply the policy's rule.

    Intake decides from its own record: a referral its approver decided (or that was withdrawn)
    meanwhile is left alone, and a decide-by time not yet reached by intake's record is waited
    for by retrying the activity then. So the timer needs no signals: a decision simply makes its
    one activity a no-op. Intake being down only delays the rule (retries without a cap).
    """

    @workflow.run
    async def run(self, timer: ApprovalTimerInput) -> bool:
        await workflow.sleep(max(timer.decide_by - workflow.now(), timedelta(0)))
        return await workflow.execute_activity_method(
            DeadlineActivities.apply_approval_timeout,
            timer.referral_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WARRANTS_RETRY,
        )
