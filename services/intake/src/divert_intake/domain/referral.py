"""The referral aggregate: one referral's state, rebuilt from its events."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_contracts.referrals import LapseAction, Location, Pathway, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.deadlines import assessment_due_by
from divert_intake.domain.eligibility import Decision, Reason, decide
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import JurisdictionPolicy


class ReferralStatus(StrEnum):
    """What police may see of a referral: status only, never case content."""

    ACCEPTED = "accepted"
    INELIGIBLE = "ineligible"
    ASSESSED = "assessed"
    LAPSED = "lapsed"


class InvalidReferral(ValueError):
    """A command that contradicts the referral's own data (e.g. a referral dated in the future)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SubmitReferral:
    """Command: an officer refers a person."""

    referral_id: UUID
    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    rms: RmsReference
    subject: Subject
    location: Location
    offense: Offense
    screening: Screening
    contact_drivers: tuple[str, ...]


@dataclass
class Referral:
    """A referral and the events that changed it but are not stored yet (`pending`)."""

    id: UUID
    version: int = 0
    status: ReferralStatus | None = None
    jurisdiction: str = ""
    pathway: Pathway | None = None
    assessment_due_by: datetime | None = None
    lapse_action: LapseAction | None = None
    decision: Decision | None = None
    pending: list[events.DomainEvent] = field(default_factory=list)

    @classmethod
    def submit(cls, command: SubmitReferral, policy: JurisdictionPolicy, now: datetime) -> "Referral":
        """Decide eligibility and record the outcome; screening facts end here."""
        if command.referred_at > now:
            raise InvalidReferral("referred_at", "referred_at is in the future")
        decision = decide(policy, command.pathway, command.offense, command.screening)
        referral = cls(id=command.referral_id)
        if not decision.eligible:
            referral._record(
                events.ReferralFoundIneligible(
                    referral_id=command.referral_id,
                    jurisdiction=policy.id,
                    pathway=command.pathway,
                    referred_at=command.referred_at,
                    policy=policy.id,
                    policy_version=policy.version,
                    reasons=tuple(events.ReasonRecord(code=r.code, message=r.message) for r in decision.reasons),
                    rms=command.rms,
                )
            )
            return referral
        has_deadline = command.pathway == "arrest_diversion"
        referral._record(
            events.ReferralAccepted(
                referral_id=command.referral_id,
                jurisdiction=policy.id,
                pathway=command.pathway,
                referred_at=command.referred_at,
                policy=policy.id,
                policy_version=policy.version,
                assessment_due_by=assessment_due_by(policy, command.referred_at) if has_deadline else None,
                lapse_action=policy.lapse_action if has_deadline else None,
                rms=command.rms,
                subject=command.subject,
                location=command.location,
                offense_category=command.offense.category,
                offense_statute=command.offense.statute,
                contact_drivers=command.contact_drivers,
            )
        )
        return referral

    @classmethod
    def from_events(cls, referral_id: UUID, history: list[events.DomainEvent]) -> "Referral":
        """Rebuild the referral from its stored events."""
        referral = cls(id=referral_id)
        for event in history:
            referral._apply(event)
            referral.version += 1
        return referral

    def record_assessment(self, completed_at: datetime) -> None:
        """The case agency completed the assessment; a repeat notice changes nothing."""
        if self.status != ReferralStatus.ACCEPTED:
            return
        on_time = self.assessment_due_by is None or completed_at <= self.assessment_due_by
        self._record(events.AssessmentRecorded(referral_id=self.id, completed_at=completed_at, on_time=on_time))

    def record_lapse(self, lapsed_at: datetime) -> None:
        """The assessment window closed first; only an accepted arrest diversion can lapse."""
        if self.status != ReferralStatus.ACCEPTED or self.lapse_action is None or self.assessment_due_by is None:
            return
        self._record(
            events.AssessmentDeadlineLapsed(
                referral_id=self.id,
                jurisdiction=self.jurisdiction,
                assessment_due_by=self.assessment_due_by,
                lapsed_at=lapsed_at,
                lapse_action=self.lapse_action,
            )
        )

    def _record(self, event: events.DomainEvent) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: events.DomainEvent) -> None:
        match event:
            case events.ReferralAccepted():
                self.status = ReferralStatus.ACCEPTED
                self.jurisdiction, self.pathway = event.jurisdiction, event.pathway
                self.assessment_due_by, self.lapse_action = event.assessment_due_by, event.lapse_action
                self.decision = Decision(True, event.policy, event.policy_version, ())
            case events.ReferralFoundIneligible():
                self.status = ReferralStatus.INELIGIBLE
                self.jurisdiction, self.pathway = event.jurisdiction, event.pathway
                reasons = tuple(Reason(r.code, r.message) for r in event.reasons)
                self.decision = Decision(False, event.policy, event.policy_version, reasons)
            case events.AssessmentRecorded():
                self.status = ReferralStatus.ASSESSED
            case events.AssessmentDeadlineLapsed():
                self.status = ReferralStatus.LAPSED
