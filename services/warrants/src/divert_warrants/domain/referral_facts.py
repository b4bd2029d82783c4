"""What warrants remembers about a referral from other services' events: times, never content.

Case and referral events can arrive before or after the lapse that raises a warrant request, so
warrants keeps the two facts that make a request wrongful (when the assessment was completed,
whether the referral was withdrawn) and judges every request against them. Needs, contacts,
consent and withdrawal reasons are never kept: only the instants and the ids of the events that
told us, for the audit trail.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_contracts.warrants import RescissionReason


@dataclass
class ReferralFacts:
    """The referral's assessment and withdrawal, as far as warrants has heard of them."""

    referral_id: UUID
    assessment_completed_at: datetime | None = None
    assessment_event_id: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_event_id: str | None = None

    def note_assessment(self, completed_at: datetime, event_id: str | None) -> None:
        """Remember the assessment; if told twice, the earliest completion counts."""
        if self.assessment_completed_at is None or completed_at < self.assessment_completed_at:
            self.assessment_completed_at, self.assessment_event_id = completed_at, event_id

    def note_withdrawal(self, withdrawn_at: datetime, event_id: str | None) -> None:
        """Remember the withdrawal; the first one told counts."""
        if self.withdrawn_at is None:
            self.withdrawn_at, self.withdrawal_event_id = withdrawn_at, event_id

    def assessed_by(self, due_by: datetime) -> bool:
        """True when the assessment was completed at or before `due_by` (a later one never counts)."""
        return self.assessment_completed_at is not None and self.assessment_completed_at <= due_by

    def reason_to_rescind(self, due_by: datetime) -> RescissionReason | None:
        """Why a request with this due time is wrongful or moot, or None when it stands.

        An on-time assessment is named first: it says the person did what was asked.
        """
        if self.assessed_by(due_by):
            return "assessed_before_deadline"
        if self.withdrawn_at is not None:
            return "referral_withdrawn"
        return None

    def cause_of(self, reason: RescissionReason) -> str | None:
        """The CloudEvents id of the event that established `reason`."""
        return self.assessment_event_id if reason == "assessed_before_deadline" else self.withdrawal_event_id
