"""Intake's command handlers and its reactions to events.

Commands come from the API (submit, withdraw, extend) and from the deadline workflow's activities
(record a lapse, which intake checks against its own record, and what a warrant request may say).
Reactions keep each arrest diversion's deadline clock in step with intake's record and with what
other services report, and note what police may see of it (assessed on time, enrolled, warrant
requested). Handlers never commit: whoever opened the unit of work does (the API's idempotency
helper, the consumer runner, the activity). What else a handler needs (the policy book, the
deadline clock) is a keyword argument bound where it is wired.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.referrals import (
    LapseAction,
    ReferralAccepted,
    ReferralApprovalRequested,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
)
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.metrics import deadline_start_latency
from divert_intake.deadline.models import DeadlineInput
from divert_intake.domain.commands import (
    ApplyApprovalTimeout,
    DecideApproval,
    ExtendDeadline,
    RaiseReminder,
    RecordLapse,
    SubmitReferral,
    WithdrawReferral,
)
from divert_intake.domain.events import HeldContact
from divert_intake.domain.policy import JurisdictionPolicy
from divert_intake.domain.referral import (
    InvalidTransition,
    LapseRefusal,
    LapseRefused,
    Referral,
    ReminderRefusal,
    ReminderRefused,
    policy_for,
)
from divert_intake.service_layer.ports import ApprovalTimer, DeadlineClock
from divert_intake.service_layer.unit_of_work import IntakeUnitOfWork
from divert_platform.audit import WRITE_REASON
from divert_platform.cause import Cause


class ReferralNotFound(LookupError):
    """No referral has this id."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no referral {referral_id}")


@dataclass(frozen=True)
class Submission:
    """A submitted referral and the policy version that decided it."""

    referral: Referral
    policy: JurisdictionPolicy


async def submit_referral(command: SubmitReferral, uow: IntakeUnitOfWork) -> Submission:
    """Decide a new referral under its jurisdiction's policy in force on its date, and record it.

    Raises `InvalidReferral` (naming the field at fault) when no policy can judge it, and
    `DuplicateActiveReferral` when its RMS case and pathway already have an active referral.
    """
    policy = policy_for(command, uow.policies)
    referral = Referral.submit(command, policy)
    await uow.referrals.save(referral)
    if referral.held is not None:  # it waits at its approval gate: the person's details stay aside
        await uow.held_contacts.hold(referral.id, referral.held)
    return Submission(referral, policy)


async def withdraw_referral(command: WithdrawReferral, uow: IntakeUnitOfWork) -> Referral:
    """Withdraw a referral; its clock is stopped from the published event."""
    referral = await _load(uow, command.referral_id)
    waited = referral.approval is not None
    referral.withdraw(command.reason, command.at)
    await uow.referrals.save(referral)
    if waited:  # withdrawn at its approval gate: nothing will be accepted, the details go
        await uow.held_contacts.release(referral.id)
    return referral


async def extend_deadline(command: ExtendDeadline, uow: IntakeUnitOfWork) -> Referral:
    """Move a pending arrest diversion's due time later, and its reminders with it (those of the
    policy version that accepted it); its clock moves from the published event."""
    referral = await _load(uow, command.referral_id)
    decided_by = referral.decision
    policy = uow.policies.version(referral.jurisdiction, decided_by.policy_version) if decided_by else None
    referral.extend_deadline(command.assessment_due_by, command.reason, command.at, policy)
    await uow.referrals.save(referral)
    return referral


async def decide_approval(command: DecideApproval, uow: IntakeUnitOfWork) -> Referral:
    """The approver accepts or declines a referral waiting at its policy's gate, attributed to the
    unit of work's cause (who decided, kept with the reason code in the event store)."""
    referral = await _load(uow, command.referral_id)
    policy = _judging_policy(uow, referral)
    referral.decide_approval(command, policy, await _held(uow, referral), actor=uow.cause.actor)
    # The reason goes with the attribution, so the audit trail shows who decided and why.
    await uow.referrals.save(referral, {**uow.cause.metadata(), WRITE_REASON: command.reason_code})
    await uow.held_contacts.release(referral.id)
    return referral


async def apply_approval_timeout(command: ApplyApprovalTimeout, uow: IntakeUnitOfWork) -> bool:
    """The approval timer fired: apply the policy's rule to a referral still waiting whose time
    intake's record agrees is up (`Referral.apply_approval_timeout`). True when it was decided now.
    An unknown referral is not an error: the timer's word is a claim, and nothing is recorded."""
    referral = await uow.referrals.get(command.referral_id)
    if referral is None or referral.approval is None:
        return False
    decided = referral.apply_approval_timeout(command, _judging_policy(uow, referral), await _held(uow, referral))
    if decided:
        await uow.referrals.save(referral)
        await uow.held_contacts.release(referral.id)
    return decided


async def approval_due(referral_id: UUID, uow: IntakeUnitOfWork) -> datetime | None:
    """When the referral's approval timer should fire by intake's record; None when it is not waiting."""
    referral = await uow.referrals.get(referral_id)
    waiting = referral.approval if referral is not None else None
    return waiting.decide_by if waiting is not None else None


async def record_lapse(command: RecordLapse, uow: IntakeUnitOfWork) -> str | None:
    """The deadline workflow reports the window closed: record it once (and so publish it once),
    if intake's record agrees; `LapseRefused` otherwise (see `Referral.lapse_refusal`).

    The referral's jurisdiction when the lapse was recorded now and a reminder had been raised
    before it (for `divert.deadline.lapses_after_reminder`); None otherwise."""
    referral = await uow.referrals.get(command.referral_id)
    if referral is None:
        raise LapseRefused(LapseRefusal.UNKNOWN_REFERRAL)
    already = referral.lapsed_at is not None
    referral.record_lapse(command.assessment_due_by, command.lapsed_at, command.at)
    await uow.referrals.save(referral)
    return referral.jurisdiction if not already and referral.reminded_before_due else None


async def raise_reminder(command: RaiseReminder, uow: IntakeUnitOfWork) -> bool:
    """The deadline workflow reports a reminder is reached: record `referral.assessment_due_soon`
    once per (due time, days before), if intake's record agrees; `ReminderRefused` otherwise (see
    `Referral.reminder_refusal`). True when it was recorded now, False when it had been already."""
    referral = await uow.referrals.get(command.referral_id)
    if referral is None:
        raise ReminderRefused(ReminderRefusal.UNKNOWN_REFERRAL)
    raised = referral.remind(command.assessment_due_by, command.remind_at, command.at)
    await uow.referrals.save(referral)
    return raised


@dataclass(frozen=True)
class RecordedLapse:
    """A lapse as intake recorded it: everything a warrant request may say, and nothing else."""

    referral_id: UUID
    jurisdiction: str
    lapse_action: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime


async def lapse_to_report(referral_id: UUID, uow: IntakeUnitOfWork) -> RecordedLapse | None:
    """The lapse intake recorded for this referral, while it should still reach warrants; None
    when none was recorded, or once intake knows of a withdrawal or an on-time assessment."""
    referral = await _load(uow, referral_id)
    if referral.lapsed_at is None or not referral.warrant_still_due:
        return None
    if referral.assessment_due_by is None or referral.lapse_action is None:  # never so once lapsed
        return None
    return RecordedLapse(
        referral_id=referral.id,
        jurisdiction=referral.jurisdiction,
        lapse_action=referral.lapse_action,
        assessment_due_by=referral.assessment_due_by,
        lapsed_at=referral.lapsed_at,
    )


async def warrant_still_due(referral_id: UUID, uow: IntakeUnitOfWork) -> bool:
    """Whether the lapse of this referral should still reach warrants (see `Referral.warrant_still_due`)."""
    return (await _load(uow, referral_id)).warrant_still_due


async def when_referral_accepted_start_deadline(
    event: ReferralAccepted, cause: Cause, *, clock: DeadlineClock, unit_of_work: Callable[[], IntakeUnitOfWork]
) -> None:
    """Start the assessment clock of an accepted arrest diversion whose window is still open in
    intake's record, due when the record says (extensions included). Idempotent by workflow id.

    The event only says which referral to look at: a re-read of an old `referral.accepted` (relays
    re-publish whole topics after a broker restart) must not revive a clock that Temporal has
    forgotten. A consumer effect, run with no transaction open; the record is read in a short
    unit of work of its own, closed before Temporal is called.
    """
    if event.pathway != "arrest_diversion":
        return  # never a clock: spare the read
    async with unit_of_work() as uow:
        referral = await uow.referrals.get(event.referral_id)
    if referral is None or not referral.deadline_pending or (deadline := _deadline_of(referral)) is None:
        return
    await clock.start(deadline)
    if cause.time is not None:
        # The clock counts from the referral, not from here: this shows how far behind we run.
        waited = (datetime.now(UTC) - cause.time).total_seconds()
        deadline_start_latency.record(max(waited, 0.0), {"jurisdiction": event.jurisdiction})


async def when_approval_requested_start_timer(
    event: ReferralApprovalRequested,
    cause: Cause,
    *,
    timer: ApprovalTimer,
    unit_of_work: Callable[[], IntakeUnitOfWork],
) -> None:
    """Start the approval timer of a referral still waiting in intake's record, due when the record
    says (never the event's word: a re-read old event starts nothing for a decided referral). A
    consumer effect, run with no transaction open, like the deadline's start."""
    async with unit_of_work() as uow:
        decide_by = await approval_due(event.referral_id, uow)
    if decide_by is not None:
        await timer.start(str(event.referral_id), decide_by)


async def when_case_assessed_stop_deadline(
    event: CaseAssessedMilestone, uow: IntakeUnitOfWork, *, clock: DeadlineClock
) -> None:
    """Record the assessment on the referral and tell its clock, so no warrant is requested.

    Intake judges on time against its own due time (not the milestone's `on_time`). Only a clock
    still pending in intake's record is told: a settled one has nothing to stop, and telling it
    would start a clock Temporal has forgotten.
    """
    referral = await uow.referrals.get(event.referral_id)
    if referral is None:
        return  # a case for a referral this intake never accepted: nothing to stop
    was_pending = referral.deadline_pending
    referral.record_assessment(event.completed_at)
    await uow.referrals.save(referral)
    if was_pending and (deadline := _deadline_of(referral)) is not None:
        await clock.record_assessment(deadline, event.completed_at)


async def when_referral_withdrawn_stop_deadline(
    event: ReferralWithdrawn, uow: IntakeUnitOfWork, *, clock: DeadlineClock
) -> None:
    """Stop the clock of a withdrawn arrest diversion."""
    referral = await uow.referrals.get(event.referral_id)
    if referral is not None and (deadline := _deadline_of(referral)) is not None:
        await clock.withdraw(deadline, event.withdrawn_at)


async def when_deadline_extended_move_deadline(
    event: ReferralDeadlineExtended, uow: IntakeUnitOfWork, *, clock: DeadlineClock
) -> None:
    """Move the clock's due time to the one in force in intake's record (a re-read older extension
    moves nothing); a clock no longer pending there (lapsed, assessed, withdrawn) is left alone."""
    referral = await uow.referrals.get(event.referral_id)
    if referral is not None and referral.deadline_pending and (deadline := _deadline_of(referral)) is not None:
        await clock.extend(deadline, deadline.assessment_due_by)


async def when_warrant_requested_note_it(event: WarrantRequested, uow: IntakeUnitOfWork) -> None:
    """Police see "warrant requested: yes" once warrants has recorded the request."""
    await _note(
        uow,
        event.referral_id,
        lambda referral: referral.note_warrant_request(event.warrant_request_id, event.requested_at),
    )


async def when_participant_enrolled_note_it(event: CaseEnrolledMilestone, uow: IntakeUnitOfWork) -> None:
    """Police see "enrolled: yes" once the case agency enrolls the person (nothing else of the case)."""
    await _note(uow, event.referral_id, lambda referral: referral.note_enrollment(event.enrolled_at))


async def when_case_opened_note_it(event: CaseOpenedMilestone, uow: IntakeUnitOfWork) -> None:
    """Programs count the referrals a case agency opened a case for (police see nothing of it)."""
    await _note(uow, event.referral_id, lambda referral: referral.note_case_opening(event.opened_at))


async def when_case_closed_note_it(event: CaseClosedMilestone, uow: IntakeUnitOfWork) -> None:
    """Police see "closed: yes" once the case agency closes the case (never why)."""
    await _note(uow, event.referral_id, lambda referral: referral.note_closure(event.closed_at))


async def when_warrant_request_rescinded_note_it(event: WarrantRequestRescinded, uow: IntakeUnitOfWork) -> None:
    """Police see "warrant requested: no" again once warrants has rescinded the request."""
    await _note(
        uow,
        event.referral_id,
        lambda referral: referral.note_warrant_rescission(event.warrant_request_id, event.rescinded_at),
    )


async def _note(uow: IntakeUnitOfWork, referral_id: UUID, change: Callable[[Referral], None]) -> None:
    """Apply another service's news to the referral it concerns (if intake knows it) and save it,
    attributed to the event that brought the news (the unit of work's cause)."""
    referral = await uow.referrals.get(referral_id)
    if referral is not None:
        change(referral)
        await uow.referrals.save(referral)


def _judging_policy(uow: IntakeUnitOfWork, referral: Referral) -> JurisdictionPolicy:
    """The policy version that judged a waiting referral (its approval request names it)."""
    waiting = referral.approval
    if waiting is None:
        raise InvalidTransition(f"cannot decide the approval of a referral that is {referral.status}", referral.status)
    policy = uow.policies.version(waiting.jurisdiction, waiting.policy_version)
    if policy is None:  # versions are never removed (domain/policy.py); a missing one is a deployment fault
        raise LookupError(f"policy {waiting.jurisdiction} version {waiting.policy_version} is not loaded")
    return policy


async def _held(uow: IntakeUnitOfWork, referral: Referral) -> HeldContact:
    """The details held for a waiting referral (kept from its submission until its decision)."""
    held = await uow.held_contacts.get(referral.id)
    if held is None:  # written with the approval request, in its transaction: a missing one is a fault
        raise LookupError(f"no details are held for the waiting referral {referral.id}")
    return held


def _deadline_of(referral: Referral) -> DeadlineInput | None:
    if referral.assessment_due_by is None or referral.lapse_action is None:
        return None
    return DeadlineInput(
        referral_id=str(referral.id),
        jurisdiction=referral.jurisdiction,
        assessment_due_by=referral.assessment_due_by,
        lapse_action=referral.lapse_action,
        assessment_reminders_at=tuple(reminder.at for reminder in referral.reminders),
    )


async def _load(uow: IntakeUnitOfWork, referral_id: UUID) -> Referral:
    referral = await uow.referrals.get(referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    return referral
