"""The referral aggregate: one referral's state, rebuilt from its events."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_contracts.referrals import LapseAction, Location, Pathway, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.deadlines import assessment_due_by
from divert_intake.domain.eligibility import Decision, Reason, decide
from divert_intake.domain.facts import EligibilityFacts, Offense, Screening
from divert_intake.domain.policy import JurisdictionPolicy


class ReferralStatus(StrEnum):
    """What police may see of a referral: status only, never case content."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASSESSED = "assessed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


class InvalidReferral(ValueError):
    """A command that contradicts the referral's own data; `field` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Exception):
    """The command is not allowed in the referral's current state."""

    def __init__(self, message: str, current: ReferralStatus | None) -> None:
        super().__init__(message)
        self.current = current


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
    offense: Offense | None
    screening: Screening
    contact_drivers: tuple[str, ...]


def eligibility_facts(command: SubmitReferral, policy: JurisdictionPolicy) -> EligibilityFacts:
    """The facts the policy's rules read, with dates taken in the jurisdiction's time zone."""
    referred_on = command.referred_at.astimezone(policy.zone).date()
    born = command.subject.date_of_birth
    age = None
    if born is not None:
        age = referred_on.year - born.year - ((referred_on.month, referred_on.day) < (born.month, born.day))
    return EligibilityFacts(
        pathway=command.pathway,
        referred_on=referred_on,
        offense=command.offense,
        screening=command.screening,
        age=age,
        contact_drivers=command.contact_drivers,
    )


# A withdrawal also undoes a lapse: no warrant may stand for a withdrawn referral.
_WITHDRAWABLE = {ReferralStatus.ACCEPTED, ReferralStatus.ASSESSED, ReferralStatus.LAPSED}


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
    warrant_requested: bool = False
    enrolled: bool = False
    assessed_on_time: bool = False
    pending: list[events.DomainEvent] = field(default_factory=list)

    @property
    def warrant_still_due(self) -> bool:
        """Whether a lapse should still become a warrant request.

        Not when intake already knows the referral was withdrawn or assessed on time: news the
        deadline workflow had not heard yet when its window closed (signals travel through Kafka).
        """
        settled = self.status == ReferralStatus.WITHDRAWN or (
            self.status == ReferralStatus.ASSESSED and self.assessed_on_time
        )
        return not settled

    @classmethod
    def submit(cls, command: SubmitReferral, policy: JurisdictionPolicy, now: datetime) -> "Referral":
        """Decide eligibility and record the outcome; screening facts end here."""
        if command.referred_at > now:
            raise InvalidReferral("referred_at", "referred_at is in the future")
        decision = decide(policy, eligibility_facts(command, policy))
        referral = cls(id=command.referral_id)
        if not decision.eligible:
            referral._record(
                events.ReferralDeclined(
                    referral_id=command.referral_id,
                    jurisdiction=policy.id,
                    pathway=command.pathway,
                    referred_at=command.referred_at,
                    policy=policy.id,
                    policy_version=policy.version,
                    reasons=tuple(events.ReasonRecord(code=r.code, message=r.message) for r in decision.reasons),
                    rms=command.rms,
                    precinct=command.location.precinct,
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
                offense_category=command.offense.category if command.offense else None,
                offense_statute=command.offense.statute if command.offense else None,
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
        """The case agency completed the assessment; a repeat notice changes nothing.

        A lapsed referral whose assessment was in fact completed by the due time (its notice was
        delayed) becomes assessed on time: warrants rescinds the request on the same event.
        """
        on_time = self.assessment_due_by is None or completed_at <= self.assessment_due_by
        timely_but_late_news = self.status == ReferralStatus.LAPSED and on_time
        if self.status == ReferralStatus.ACCEPTED or timely_but_late_news:
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

    def withdraw(self, reason: str, now: datetime) -> None:
        """The referring agency withdraws the referral; its clock stops and no warrant may stand."""
        if self.status not in _WITHDRAWABLE:
            raise InvalidTransition(f"a {self.status} referral cannot be withdrawn", self.status)
        self._record(
            events.ReferralWithdrawn(
                referral_id=self.id, jurisdiction=self.jurisdiction, reason=reason, withdrawn_at=now
            )
        )

    def extend_deadline(self, new_due: datetime, reason: str, now: datetime) -> None:
        """Move a pending arrest diversion's due time later (several extensions are allowed)."""
        if self.status != ReferralStatus.ACCEPTED or self.assessment_due_by is None:
            raise InvalidTransition(
                "only an arrest diversion awaiting assessment has a deadline to extend", self.status
            )
        if new_due <= self.assessment_due_by:
            raise InvalidReferral("assessment_due_by", "an extension must move the due time later, never earlier")
        if new_due <= now:
            raise InvalidReferral("assessment_due_by", "an extension must end in the future")
        self._record(
            events.DeadlineExtended(
                referral_id=self.id,
                jurisdiction=self.jurisdiction,
                previous_due_by=self.assessment_due_by,
                assessment_due_by=new_due,
                reason=reason,
                extended_at=now,
            )
        )

    def note_warrant_request(self, warrant_request_id: UUID) -> None:
        """Remember that warrants recorded a request (police see only yes/no); repeats change nothing."""
        if not self.warrant_requested:
            self._record(events.WarrantRequestNoted(referral_id=self.id, warrant_request_id=warrant_request_id))

    def note_enrollment(self, enrolled_at: datetime) -> None:
        """The person enrolled with the case agency; repeats change nothing."""
        if not self.enrolled:
            self._record(events.EnrollmentNoted(referral_id=self.id, enrolled_at=enrolled_at))

    def note_warrant_rescission(self, warrant_request_id: UUID) -> None:
        """Warrants rescinded the request: police no longer see one standing."""
        if self.warrant_requested:
            self._record(events.WarrantRescissionNoted(referral_id=self.id, warrant_request_id=warrant_request_id))

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
            case events.ReferralDeclined():
                self.status = ReferralStatus.DECLINED
                self.jurisdiction, self.pathway = event.jurisdiction, event.pathway
                reasons = tuple(Reason(r.code, r.message) for r in event.reasons)
                self.decision = Decision(False, event.policy, event.policy_version, reasons)
            case events.AssessmentRecorded():
                self.status = ReferralStatus.ASSESSED
                self.assessed_on_time = event.on_time
            case events.AssessmentDeadlineLapsed():
                self.status = ReferralStatus.LAPSED
            case events.ReferralWithdrawn():
                self.status = ReferralStatus.WITHDRAWN
            case events.DeadlineExtended():
                self.assessment_due_by = event.assessment_due_by
            case events.WarrantRequestNoted():
                self.warrant_requested = True
            case events.WarrantRescissionNoted():
                self.warrant_requested = False
            case events.EnrollmentNoted():
                self.enrolled = True
