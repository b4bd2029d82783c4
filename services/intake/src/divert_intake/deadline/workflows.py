"""`ReferralDeadlineWorkflow`: the durable assessment clock of one arrest diversion."""

from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from divert_intake.deadline.activities import DeadlineActivities
    from divert_intake.deadline.models import (
        AssessmentNotice,
        DeadlineInput,
        DeadlineOutcome,
        DeadlineState,
        DeadlineStatus,
        ExtensionNotice,
        LapseNotice,
        ReminderNotice,
        WithdrawalNotice,
    )

# Patch ids: each names one change of behaviour that running workflows must not see mid-flight.
RECORD_LAPSE_FIRST = "record-lapse-before-requesting-warrant"
REMINDERS = "assessment-reminders"

# A reminder is worth nothing once the window has closed: it is never waited for past the due time
# (the lapse must not be held up), and at least this long when the due time is near.
MIN_REMINDER_WAIT = timedelta(seconds=10)

# Warrants being down for hours must only delay the request: retry without a cap on attempts.
WARRANTS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class ReferralDeadlineWorkflow:
    """Waits for the assessment until the due time; on lapse, asks warrants to act, once.

    The due time comes from intake's record of the referral and moves only later (extensions). An
    assessment counts if it was completed at or before the due time in force; a withdrawal stops
    the clock. The lapse it reports is checked by the activities against intake's record: one the
    record contradicts is refused without retry, and the workflow fails with nothing requested.
    """

    @workflow.init
    def __init__(self, deadline: DeadlineInput) -> None:
        # The input is taken here, not in `run`, because a signal sent with the start (an
        # assessment that overtook `referral.accepted`) is handled before `run` begins.
        self._state: DeadlineState = "waiting"
        self._due: datetime = deadline.assessment_due_by
        self._completed_at: datetime | None = None
        self._warrant_request_id: str | None = None
        # Reminders not yet raised, earliest first (workflows started before reminders have none).
        self._reminders: list[datetime] = sorted(deadline.assessment_reminders_at)
        self._reminding = False

    def _settled_or_moved(self, due: datetime) -> bool:
        """The wait for `due` is over: the clock was settled, or its due time moved."""
        return self._state != "waiting" or self._due != due

    @workflow.run
    async def run(self, deadline: DeadlineInput) -> DeadlineOutcome:
        # Workflows started before reminders replay without the marker and wait as they did.
        self._reminding = workflow.patched(REMINDERS)
        while self._state == "waiting":
            due = self._due
            reminder = self._next_reminder()
            wake = reminder if reminder is not None else due
            try:
                await workflow.wait_condition(
                    partial(self._settled_or_moved, due), timeout=max(wake - workflow.now(), timedelta(0))
                )
            except TimeoutError:
                if reminder is None:
                    self._state = "lapsing"
                elif not self._settled_or_moved(due):  # else the loop looks again at what changed
                    self._reminders.remove(reminder)
                    await self._raise_reminder(deadline, due, reminder)
        if self._state in ("assessed", "withdrawn"):
            return DeadlineOutcome(outcome=self._state)
        notice = LapseNotice(
            referral_id=deadline.referral_id,
            jurisdiction=deadline.jurisdiction,
            assessment_due_by=self._due,
            lapse_action=deadline.lapse_action,
            lapsed_at=workflow.now(),
        )
        if workflow.patched(RECORD_LAPSE_FIRST):
            # Record the lapse first: intake and program managers see it at once, even while
            # warrants is down and the request is still being retried.
            await self._record_lapse(notice)
            await self._request_warrant(notice)
        else:  # workflows started by v1 workers requested the warrant first
            await self._request_warrant(notice)
            await self._record_lapse(notice)
        self._state = "lapsed"
        return DeadlineOutcome(outcome="lapsed", warrant_request_id=self._warrant_request_id)

    def _next_reminder(self) -> datetime | None:
        """The next reminder to wait for: one before the due time in force, if reminders are on."""
        if not self._reminding:
            return None
        return next((at for at in self._reminders if at < self._due), None)

    async def _raise_reminder(self, deadline: DeadlineInput, due: datetime, at: datetime) -> None:
        """Ask intake to raise the reminder; one that still fails when the due time is near is
        dropped (logged): the lapse it warned of matters more."""
        notice = ReminderNotice(
            referral_id=deadline.referral_id, jurisdiction=deadline.jurisdiction, assessment_due_by=due, remind_at=at
        )
        try:
            await workflow.execute_activity_method(
                DeadlineActivities.raise_reminder,
                notice,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=max(due - workflow.now(), MIN_REMINDER_WAIT),
                retry_policy=WARRANTS_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("a reminder could not be raised before the due time; it is dropped")

    async def _request_warrant(self, notice: LapseNotice) -> None:
        self._warrant_request_id = await workflow.execute_activity_method(
            DeadlineActivities.request_warrant,
            notice,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WARRANTS_RETRY,
        )

    async def _record_lapse(self, notice: LapseNotice) -> None:
        await workflow.execute_activity_method(
            DeadlineActivities.record_lapse,
            notice,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WARRANTS_RETRY,
        )

    @workflow.signal
    def assessment_recorded(self, notice: AssessmentNotice) -> None:
        """The case agency completed the assessment; honoured if on time and still waiting."""
        if self._state == "waiting" and notice.completed_at <= self._due:
            self._completed_at = notice.completed_at
            self._state = "assessed"

    @workflow.signal
    def withdrawn(self, notice: WithdrawalNotice) -> None:
        """The referral was withdrawn: stop waiting, request nothing."""
        if self._state == "waiting":
            self._state = "withdrawn"

    @workflow.signal
    def deadline_extended(self, notice: ExtensionNotice) -> None:
        """Move the due time; an earlier time is ignored (extensions never shorten the window)."""
        if self._state == "waiting" and notice.assessment_due_by > self._due:
            self._due = notice.assessment_due_by
            # The reminders move with the due time: those of the new one replace any not yet raised.
            self._reminders = sorted(notice.assessment_reminders_at)

    @workflow.query
    def status(self) -> DeadlineStatus:
        """The clock's state and due time."""
        return DeadlineStatus(
            state=self._state,
            assessment_due_by=self._due,
            completed_at=self._completed_at,
            warrant_request_id=self._warrant_request_id,
        )
