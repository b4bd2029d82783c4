"""Activities of the deadline workflow: record the lapse in intake, ask warrants to act.

The workflow's word is a claim, not a fact: whoever can reach the Temporal frontend can start a
`ReferralDeadlineWorkflow` with any input, and any worker polling its task queue can schedule
these activities. So before anything is recorded or requested, the lapse is checked against
intake's own record of the referral (`Referral.lapse_refusal`) and this worker's own clock; a
lapse the record contradicts is refused without retrying (the workflow fails visibly, no warrant
is asked for), logged with its reason code and counted in `divert.deadline.lapse_refusals`. The
warrant request says only what intake recorded, never what the workflow passed in.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from uuid import UUID

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from divert_contracts.warrant_requests import (
    LAPSE_NOT_RECORDED,
    LAPSE_SUPERSEDED,
    WarrantRequestBody,
    WarrantRequestReceipt,
)
from divert_intake.adapters.metrics import lapse_refusals, lapses_after_reminder, reminder_refusals
from divert_intake.deadline.models import LapseNotice, ReminderNotice
from divert_intake.domain.commands import ApplyApprovalTimeout, RaiseReminder, RecordLapse
from divert_intake.domain.referral import LapseRefusal, LapseRefused, ReminderRefusal, ReminderRefused
from divert_intake.service_layer import handlers
from divert_intake.service_layer.unit_of_work import IntakeUnitOfWork
from divert_platform.cause import Cause
from divert_platform.clock import utcnow

WORKFLOW = Cause(actor="referral-deadline-workflow", role="service")
"""Who a lapse is attributed to in intake's event store."""

APPROVAL_TIMER = Cause(actor="referral-approval-workflow", role="service")
"""Who a decision by the policy's rule (nobody decided in time) is attributed to."""

LAPSE_REFUSED = "LapseRefused"
"""`ApplicationError.type` of a lapse intake's record contradicts (non-retryable)."""

MAX_CLOCK_SKEW = timedelta(seconds=30)
"""A due time at most this far ahead of the worker's clock, when the timer has fired, is taken for
clock skew between the Temporal server and this host: the attempt is retried at the due time,
with nothing recorded before it. Further ahead, the lapse is refused as `not_yet_due`."""

MAX_RETRY_AFTER = timedelta(minutes=5)
"""The longest `Retry-After` of warrants that is honoured (the workflow's retry policy's cap)."""

# 401/403: our credentials are deployment configuration (a rotated key, a missing service token):
# once it is fixed the same request succeeds, while giving up would lose the warrant request.
# 429: slow down. 409s are told apart by their problem type (`_receipt`).
_RETRYABLE_CLIENT_ERRORS = {401, 403, 429}
# 409s a retry changes: the lapse has not reached warrants yet; another call for the referral was
# being recorded at the same moment; the platform's concurrent first use of one key (`conflict`
# without `field`). A `conflict` naming the Idempotency-Key, `lapse-superseded` and any other kind
# are final.
_PASSING_CONFLICTS = (f"/{LAPSE_NOT_RECORDED}", "/concurrent-request", "/conflict")


class DeadlineActivities:
    """The deadline workflow's activities and the adapters they use: intake's units of work, an
    HTTP client whose base URL is the warrants service, the source of the token this worker
    presents to warrants (asked on every call, so a long-running worker never sends an expired
    one), and the worker's own clock."""

    def __init__(
        self,
        unit_of_work: Callable[[], IntakeUnitOfWork],
        warrants: httpx.AsyncClient,
        *,
        token: Callable[[], str],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._warrants = warrants
        self._token = token
        self._now = now

    @activity.defn
    async def record_lapse(self, notice: LapseNotice) -> None:
        """Record `referral.assessment_deadline_lapsed` in intake, in a unit of work this activity
        commits, if intake's record agrees the window closed (idempotent: a referral lapses once,
        however often the activity runs). Refused without retry otherwise (`LapseRefused`)."""
        await self._record_checked_lapse(notice)

    @activity.defn
    async def raise_reminder(self, notice: ReminderNotice) -> bool:
        """Record `referral.assessment_due_soon` in intake, in a unit of work this activity commits,
        if intake's record agrees (an arrest diversion awaiting assessment, the due time in force,
        one of its reminders, reached by this worker's clock). Idempotent: a reminder is recorded
        once per (due time, days before), however often the activity runs.

        True when it was recorded. A reminder the record contradicts (most often: the assessment
        or the withdrawal reached intake before its signal reached the workflow) is not an error:
        nothing is recorded, the refusal is logged and counted, and the workflow waits on (False).
        """
        try:
            referral_id = UUID(notice.referral_id)
        except ValueError:
            return _reminder_refused(ReminderRefusal.UNKNOWN_REFERRAL)
        now = self._now()
        uow = self._unit_of_work()
        uow.cause = WORKFLOW
        try:
            async with uow:
                command = RaiseReminder(referral_id, notice.assessment_due_by, notice.remind_at, at=now)
                raised = await handlers.raise_reminder(command, uow)
                await uow.commit()
        except ReminderRefused as refusal:
            ahead = notice.remind_at - now
            if refusal.reason is ReminderRefusal.NOT_YET_DUE and ahead <= MAX_CLOCK_SKEW:
                raise ApplicationError(
                    "the reminder is not reached by this worker's clock; retrying then",
                    type="ReminderNotYetDue",
                    next_retry_delay=ahead + timedelta(seconds=1),
                ) from None
            return _reminder_refused(refusal.reason)
        return raised

    @activity.defn
    async def apply_approval_timeout(self, referral_id: str) -> bool:
        """Apply the policy's rule to a referral still waiting at its approval gate whose decide-by
        time intake's record says has passed by this worker's clock, in a unit of work this
        activity commits. True when it was decided now; False when there is nothing to decide (an
        approver decided, the referral was withdrawn, or no such referral: the timer's word is a
        claim). A time not yet reached is waited for: the attempt is retried then."""
        try:
            command = ApplyApprovalTimeout(UUID(referral_id), at=self._now())
        except ValueError:
            return False
        uow = self._unit_of_work()
        uow.cause = APPROVAL_TIMER
        async with uow:
            decided = await handlers.apply_approval_timeout(command, uow)
            due = None if decided else await handlers.approval_due(command.referral_id, uow)
            await uow.commit()
        if due is not None:  # still waiting, and not yet due by intake's record
            raise ApplicationError(
                "the approval is not yet due by intake's record; retrying then",
                type="ApprovalNotYetDue",
                next_retry_delay=due - command.at + timedelta(seconds=1),
            )
        return decided

    @activity.defn
    async def request_warrant(self, notice: LapseNotice) -> str | None:
        """Ask warrants to act on the lapse intake recorded; idempotent per referral, so retries
        create nothing new.

        The lapse is checked (and recorded, if the workflow asks warrants first, as its first
        version did) like `record_lapse`. Nothing is asked (None) when intake knows the referral
        was withdrawn or assessed on time after its lapse was recorded: a request made now would
        be wrongful, if only until warrants rescinds it.

        Warrants' answers (`divert_contracts.warrant_requests`): 200/201 give the request's id.
        Retried (with backoff, without a cap on attempts: a credential fixed or warrants back up,
        the same request succeeds; a `Retry-After` is honoured): 401, 403, 429, 5xx, a network
        error, a 409 `lapse-not-recorded` (warrants has not yet heard of the lapse from Kafka), a
        409 `concurrent-request` or `conflict` (a concurrent write). Failed without retry, so the
        workflow fails visibly rather than retrying forever: a 409 `conflict` naming the
        `Idempotency-Key` (reused with another body), a 409 `lapse-superseded`, a 422 (the facts
        contradict warrants' record), any other 4xx.
        """
        await self._record_checked_lapse(notice)
        async with self._unit_of_work() as uow:
            lapse = await handlers.lapse_to_report(UUID(notice.referral_id), uow)
        if lapse is None:
            activity.logger.info("no warrant request: the referral was settled after its lapse")
            return None
        body = WarrantRequestBody(
            referral_id=lapse.referral_id,
            jurisdiction=lapse.jurisdiction,
            kind=lapse.lapse_action,
            assessment_due_by=lapse.assessment_due_by,
            lapsed_at=lapse.lapsed_at,
        )
        response = await self._warrants.post(
            "/v1/warrant-requests",
            json=body.model_dump(mode="json"),
            headers={
                "Authorization": f"Bearer {self._token()}",
                "Idempotency-Key": f"deadline-lapse-{lapse.referral_id}",
            },
        )
        return _receipt(response)

    async def warrant_still_due(self, referral_id: str) -> bool:
        """Whether intake still wants the lapse to reach warrants (not once it knows the referral
        was withdrawn or assessed on time)."""
        async with self._unit_of_work() as uow:
            return await handlers.warrant_still_due(UUID(referral_id), uow)

    async def _record_checked_lapse(self, notice: LapseNotice) -> None:
        try:
            referral_id = UUID(notice.referral_id)
        except ValueError:
            raise _refused(LapseRefusal.UNKNOWN_REFERRAL) from None
        now = self._now()
        uow = self._unit_of_work()
        uow.cause = WORKFLOW
        try:
            async with uow:
                command = RecordLapse(referral_id, notice.assessment_due_by, notice.lapsed_at, at=now)
                after_reminder = await handlers.record_lapse(command, uow)
                await uow.commit()
            if after_reminder is not None:  # the jurisdiction of intake's record, not the workflow's word
                lapses_after_reminder.add(1, {"jurisdiction": after_reminder})
        except LapseRefused as refusal:
            ahead = notice.assessment_due_by - now
            if refusal.reason is LapseRefusal.NOT_YET_DUE and ahead <= MAX_CLOCK_SKEW:
                raise ApplicationError(
                    "the due time has not passed by this worker's clock; retrying at the due time",
                    type="LapseNotYetDue",
                    next_retry_delay=ahead + timedelta(seconds=1),
                ) from None
            raise _refused(refusal.reason) from None


def _refused(reason: LapseRefusal) -> ApplicationError:
    """Count and log a refusal (its reason code only: the workflow id in the log context is the
    opaque referral id, nothing names a person) and the error that fails the workflow."""
    lapse_refusals.add(1, {"reason": reason.value})
    activity.logger.warning("lapse refused by intake's record of the referral: %s", reason.value)
    return ApplicationError(
        f"intake's record of the referral contradicts the lapse: {reason.value}",
        reason.value,
        type=LAPSE_REFUSED,
        non_retryable=True,
    )


def _reminder_refused(reason: ReminderRefusal) -> bool:
    """Count and log a refused reminder (its reason code only); nothing was recorded."""
    reminder_refusals.add(1, {"reason": reason.value})
    activity.logger.info("reminder not raised: intake's record of the referral contradicts it: %s", reason.value)
    return False


def _receipt(response: httpx.Response) -> str:
    """The warrant request's id from warrants' answer, or the error that fails this attempt."""
    status = response.status_code
    if status in (200, 201):
        return str(WarrantRequestReceipt.model_validate_json(response.content).warrant_request_id)
    problem = _problem(response)
    kind = str(problem.get("type", ""))
    if status == 409:
        if problem.get("field") == "Idempotency-Key" or kind.endswith("/idempotency-key-reused"):
            raise ApplicationError(
                "warrants holds another request under this Idempotency-Key",
                type="IdempotencyKeyReused",
                non_retryable=True,
            )
        if kind.endswith(f"/{LAPSE_NOT_RECORDED}"):
            raise _retry(response, "warrants has not yet heard of the lapse", "WarrantsAwaitingLapse")
        if kind.endswith(_PASSING_CONFLICTS) or not kind:
            raise _retry(response, "a concurrent write at warrants", "WarrantsConflict")
        if kind.endswith(f"/{LAPSE_SUPERSEDED}"):
            raise ApplicationError(
                "warrants knows a due time in force after the recorded lapse: HTTP 409",
                type="LapseSuperseded",
                non_retryable=True,
            )
    if status == 422:
        raise ApplicationError(
            "warrants' record contradicts the lapse's facts: HTTP 422", type="WarrantsRefusedFacts", non_retryable=True
        )
    if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS:
        raise ApplicationError(
            f"warrants refused the request: HTTP {status}", type="WarrantsRefused", non_retryable=True
        )
    raise _retry(response, f"warrants answered HTTP {status}", "WarrantsUnavailable")


def _retry(response: httpx.Response, why: str, kind: str) -> ApplicationError:
    """A retryable failure of this attempt, retried after warrants' `Retry-After` if it gave one."""
    return ApplicationError(f"{why}; will retry", type=kind, next_retry_delay=_retry_after(response))


def _problem(response: httpx.Response) -> dict[str, object]:
    """The problem+json body of an error answer ({} when there is none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> timedelta | None:
    """`Retry-After` (seconds or an HTTP date), between 1 second and `MAX_RETRY_AFTER`; None without one."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            delay = parsedate_to_datetime(value) - utcnow()
        except (TypeError, ValueError):
            return None
    return min(max(delay, timedelta(seconds=1)), MAX_RETRY_AFTER)
