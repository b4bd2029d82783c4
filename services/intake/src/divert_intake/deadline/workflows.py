"""`ReferralDeadlineWorkflow`: the durable assessment clock of one arrest diversion."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from divert_intake.deadline.activities import DeadlineActivities
    from divert_intake.deadline.models import (
        AssessmentNotice,
        DeadlineInput,
        DeadlineOutcome,
        DeadlineState,
        DeadlineStatus,
        LapseNotice,
    )

# Warrants being down for hours must only delay the request: retry without a cap on attempts.
WARRANTS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class ReferralDeadlineWorkflow:
    """Waits for the assessment until the due time; on lapse, asks warrants to act, once.

    The due time comes from the referral event. An assessment counts only if it was completed at
    or before the due time, so a late-recorded but timely assessment is honoured even if its
    notice arrives after the timer would have fired in wall-clock terms.
    """

    @workflow.init
    def __init__(self, deadline: DeadlineInput) -> None:
        # The input is taken here, not in `run`, because a signal sent with the start (an
        # assessment that overtook `referral.accepted`) is handled before `run` begins.
        self._state: DeadlineState = "waiting"
        self._due: datetime = deadline.assessment_due_by
        self._completed_at: datetime | None = None
        self._warrant_request_id: str | None = None

    @workflow.run
    async def run(self, deadline: DeadlineInput) -> DeadlineOutcome:
        remaining = max(deadline.assessment_due_by - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(lambda: self._completed_at is not None, timeout=remaining)
        except TimeoutError:
            pass
        if self._completed_at is not None:
            self._state = "assessed"
            return DeadlineOutcome(outcome="assessed")
        self._state = "lapsing"
        notice = LapseNotice(
            referral_id=deadline.referral_id,
            jurisdiction=deadline.jurisdiction,
            assessment_due_by=deadline.assessment_due_by,
            lapse_action=deadline.lapse_action,
            lapsed_at=workflow.now(),
        )
        self._warrant_request_id = await workflow.execute_activity_method(
            DeadlineActivities.request_warrant,
            notice,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WARRANTS_RETRY,
        )
        await workflow.execute_activity_method(
            DeadlineActivities.record_lapse,
            notice,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WARRANTS_RETRY,
        )
        self._state = "lapsed"
        return DeadlineOutcome(outcome="lapsed", warrant_request_id=self._warrant_request_id)

    @workflow.signal
    def assessment_recorded(self, notice: AssessmentNotice) -> None:
        """The case agency completed the assessment; ignored unless it was on time and still waiting."""
        if self._state == "waiting" and notice.completed_at <= self._due:
            self._completed_at = notice.completed_at

    @workflow.query
    def status(self) -> DeadlineStatus:
        """The clock's state and due time."""
        return DeadlineStatus(
            state=self._state,
            assessment_due_by=self._due,
            completed_at=self._completed_at,
            warrant_request_id=self._warrant_request_id,
        )
