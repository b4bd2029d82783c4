"""Domain events → integration events (the published contract). Internal events stay home."""

from divert_contracts import referrals as contract
from divert_contracts.base import IntegrationEvent
from divert_intake.domain import events
from divert_intake.domain.referral import Referral


def to_integration_event(event: events.ReferralEvent, referral: Referral) -> IntegrationEvent | None:
    """The contract event to publish for `event` of `referral`, or None when nothing leaves intake."""
    match event:
        case events.ReferralAccepted():
            return contract.ReferralAccepted(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                pathway=event.pathway,
                referred_at=event.referred_at,
                policy=event.policy,
                policy_version=event.policy_version,
                assessment_due_by=event.assessment_due_by,
                lapse_action=event.lapse_action,
                rms=event.rms,
                subject=event.subject,
                location=event.location,
                offense_category=event.offense_category,
                contact_drivers=event.contact_drivers,
                offense_statute=event.offense_statute,
                assessment_reminders_at=tuple(reminder.at for reminder in event.assessment_reminders),
            )
        case events.ApprovalRequested():
            return contract.ReferralApprovalRequested(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                pathway=event.pathway,
                referred_at=event.referred_at,
                policy=event.policy,
                policy_version=event.policy_version,
                approver=event.approver,
                decide_by=event.decide_by,
                requested_at=event.requested_at,
            )
        case events.AssessmentDeadlineLapsed():
            return contract.ReferralAssessmentDeadlineLapsed(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                assessment_due_by=event.assessment_due_by,
                lapsed_at=event.lapsed_at,
                lapse_action=event.lapse_action,
            )
        case events.ReferralDeclined():
            return contract.ReferralDeclined(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                pathway=event.pathway,
                referred_at=event.referred_at,
                policy=event.policy,
                policy_version=event.policy_version,
                reasons=tuple(contract.ReasonCode(code=r.code, message=r.message) for r in event.reasons),
                agency=event.rms.agency,
                precinct=event.precinct,
            )
        case events.ReferralWithdrawn():
            return contract.ReferralWithdrawn(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                withdrawn_at=event.withdrawn_at,
                reason=event.reason,
            )
        case events.DeadlineExtended():
            return contract.ReferralDeadlineExtended(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                previous_due_by=event.previous_due_by,
                assessment_due_by=event.assessment_due_by,
                reason=event.reason,
                extended_at=event.extended_at,
                assessment_reminders_at=tuple(reminder.at for reminder in event.assessment_reminders),
            )
        case events.AssessmentDueSoon():
            return contract.ReferralAssessmentDueSoon(
                referral_id=event.referral_id,
                jurisdiction=event.jurisdiction,
                assessment_due_by=event.assessment_due_by,
                reminded_at=event.reminded_at,
                days_before=event.days_before,
                next_reminder_at=event.next_reminder_at,
            )
        case _:
            return None  # assessment and warrant notes are other services' facts, already published
