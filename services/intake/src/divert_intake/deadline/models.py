"""Inputs, results and queries of the deadline workflow: one model each, as Temporal's samples do."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from divert_contracts.referrals import LapseAction

TASK_QUEUE = "divert-intake-deadlines"


def workflow_id(referral_id: str) -> str:
    """The one workflow id of a referral's deadline (makes starting it idempotent)."""
    return f"referral-deadline-{referral_id}"


def approval_workflow_id(referral_id: str) -> str:
    """The one workflow id of a referral's approval timer."""
    return f"referral-approval-{referral_id}"


class ApprovalTimerInput(BaseModel):
    """When a referral waiting at its policy's approval gate is due to be decided by the policy's
    rule, from intake's record. A claim like any workflow input: the activity decides nothing
    before intake's own record says the time is up."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    decide_by: datetime


class DeadlineInput(BaseModel):
    """What the workflow needs, taken from intake's record of an accepted arrest diversion whose
    window is open (never from the wall clock). Anyone who can start workflows can pass anything
    here: the activities check what it leads to against intake's record."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    jurisdiction: str
    assessment_due_by: datetime
    lapse_action: LapseAction
    assessment_reminders_at: tuple[datetime, ...] = ()
    """When to remind the case agency before the due time, earliest first (empty in inputs of
    workflows started before reminders)."""


class AssessmentNotice(BaseModel):
    """Signal: the case agency completed the assessment at `completed_at`."""

    model_config = ConfigDict(frozen=True)
    completed_at: datetime


class ExtensionNotice(BaseModel):
    """Signal: the program manager moved the due time later."""

    model_config = ConfigDict(frozen=True)
    assessment_due_by: datetime
    assessment_reminders_at: tuple[datetime, ...] = ()
    """The reminders before the new due time, earliest first (they replace those not yet raised)."""


class WithdrawalNotice(BaseModel):
    """Signal: the referral was withdrawn; the clock stops for good."""

    model_config = ConfigDict(frozen=True)
    withdrawn_at: datetime


DeadlineState = Literal["waiting", "assessed", "withdrawn", "lapsing", "lapsed"]


class DeadlineStatus(BaseModel):
    """Query result: where the clock stands."""

    state: DeadlineState
    assessment_due_by: datetime
    completed_at: datetime | None = None
    warrant_request_id: str | None = None


class LapseNotice(BaseModel):
    """Activity input when the window closed without an assessment: the workflow's claim, which
    the activities check against intake's record (`Referral.lapse_refusal`) before acting on it."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    jurisdiction: str
    assessment_due_by: datetime
    lapse_action: LapseAction
    lapsed_at: datetime


class ReminderNotice(BaseModel):
    """Activity input when a reminder is reached: the workflow's claim, which the activity checks
    against intake's record (`Referral.reminder_refusal`) before recording anything."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    jurisdiction: str
    assessment_due_by: datetime
    remind_at: datetime


class DeadlineOutcome(BaseModel):
    """Workflow result."""

    outcome: Literal["assessed", "withdrawn", "lapsed"]
    warrant_request_id: str | None = None
