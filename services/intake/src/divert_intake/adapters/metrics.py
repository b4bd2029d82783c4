"""Intake's business metrics: referrals decided or held for approval, deadline clocks started,
reminders raised, windows lapsed, lapses refused."""

from opentelemetry import metrics

from divert_contracts.referrals import (
    ReferralAccepted,
    ReferralApprovalRequested,
    ReferralAssessmentDeadlineLapsed,
    ReferralAssessmentDueSoon,
    ReferralDeclined,
)
from divert_platform.metrics import CommittedEventCounter

REFERRALS = "Referrals decided, by jurisdiction, pathway and decision."

count_committed = (
    CommittedEventCounter()
    .count(ReferralAccepted, "divert.referrals", REFERRALS, labels=("jurisdiction", "pathway"), decision="accepted")
    .count(ReferralDeclined, "divert.referrals", REFERRALS, labels=("jurisdiction", "pathway"), decision="declined")
    .count(
        ReferralApprovalRequested,
        "divert.approvals.requested",
        "Referrals held at their policy's approval gate, by jurisdiction and approver role.",
        labels=("jurisdiction", "approver"),
    )
    .count(
        ReferralAssessmentDeadlineLapsed,
        "divert.deadline.lapses",
        "Arrest diversions whose assessment window closed without an assessment.",
        labels=("jurisdiction",),
    )
    .count(
        ReferralAssessmentDueSoon,
        "divert.deadline.reminders",
        "Reminders raised to case agencies before an arrest diversion's assessment is due.",
        labels=("jurisdiction",),
    )
)
"""Given to intake's units of work: counts what each committed transaction decided."""

deadline_start_latency = metrics.get_meter("divert.intake").create_histogram(
    "divert.deadline.start_latency",
    unit="s",
    description="From a referral's acceptance to its deadline workflow running in Temporal.",
)

lapse_refusals = metrics.get_meter("divert.intake").create_counter(
    "divert.deadline.lapse_refusals",
    description=(
        "Lapses a deadline workflow reported that intake's record of the referral contradicts, refused without a "
        "lapse or a warrant request, by `reason` (unknown_referral, not_arrest_diversion, not_accepted, "
        "due_time_mismatch, not_yet_due, withdrawn, assessed_on_time)."
    ),
)

lapses_after_reminder = metrics.get_meter("divert.intake").create_counter(
    "divert.deadline.lapses_after_reminder",
    description="Lapses recorded for a due time the case agency had been reminded of, by jurisdiction.",
)

reminder_refusals = metrics.get_meter("divert.intake").create_counter(
    "divert.deadline.reminder_refusals",
    description=(
        "Reminders a deadline workflow reported that intake's record contradicts, not raised, by `reason` "
        "(unknown_referral, not_pending, due_time_mismatch, unknown_reminder, not_yet_due)."
    ),
)
