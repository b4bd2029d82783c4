"""The referral aggregate: one referral's state, rebuilt from its events."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_contracts.referrals import LapseAction, Location, Pathway, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.approvals import (
    APPROVAL_DENIED,
    APPROVAL_TIMED_OUT,
    TIMEOUT_DECIDER,
    approval_problem,
)
from divert_intake.domain.commands import ApplyApprovalTimeout, DecideApproval, SubmitReferral
from divert_intake.domain.convictions import screening_problem
from divert_intake.domain.deadlines import Reminder, assessment_due_by, reminder_schedule
from divert_intake.domain.eligibility import Decision, decide
from divert_intake.domain.facts import EligibilityFacts, Offense
from divert_intake.domain.policy import JurisdictionPolicy, PolicyBook
from divert_intake.domain.reasons import Reason, stored
from divert_platform.aggregate import Aggregate, applies


class ReferralStatus(StrEnum):
    """What police may see of a referral: status only, never case content."""

    PENDING_APPROVAL = "pending_approval"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASSESSED = "assessed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


class InvalidReferral(ValueError):
    """A command that contradicts the referral's own data or its policy; `field` names the request
    field at fault (e.g. `referred_at`, `subject.date_of_birth`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Exception):
    """The command is not allowed in the referral's current state."""

    def __init__(self, message: str, current: ReferralStatus | None) -> None:
        super().__init__(message)
        self.current = current


class LapseRefusal(StrEnum):
    """Why intake's record refuses a lapse the deadline workflow reports (fixed codes: metric labels)."""

    UNKNOWN_REFERRAL = "unknown_referral"
    NOT_ARREST_DIVERSION = "not_arrest_diversion"
    NOT_ACCEPTED = "not_accepted"
    DUE_TIME_MISMATCH = "due_time_mismatch"
    NOT_YET_DUE = "not_yet_due"
    WITHDRAWN = "withdrawn"
    ASSESSED_ON_TIME = "assessed_on_time"


class ReminderRefusal(StrEnum):
    """Why intake's record refuses a reminder the deadline workflow reports (fixed codes: metric labels)."""

    UNKNOWN_REFERRAL = "unknown_referral"
    NOT_PENDING = "not_pending"
    DUE_TIME_MISMATCH = "due_time_mismatch"
    UNKNOWN_REMINDER = "unknown_reminder"
    NOT_YET_DUE = "not_yet_due"


class LapseRefused(Exception):
    """The referral's own record contradicts the reported lapse; nothing was recorded."""

    def __init__(self, reason: LapseRefusal) -> None:
        super().__init__(f"lapse refused: {reason}")
        self.reason = reason


class ReminderRefused(Exception):
    """The referral's own record contradicts the reported reminder; nothing was recorded."""

    def __init__(self, reason: ReminderRefusal) -> None:
        super().__init__(f"reminder refused: {reason}")
        self.reason = reason


def policy_for(command: SubmitReferral, policies: PolicyBook) -> JurisdictionPolicy:
    """The policy that judges the referral: the jurisdiction's version in force on its date.

    Raises `InvalidReferral` naming the first field that rules the referral out before any rule is
    evaluated: an unknown jurisdiction, a date before its first policy, a pathway it does not take,
    an arrest diversion without its offense, a drug offense without its drug type where the policy
    diverts only some, or without its quantity where the policy limits it (a missing quantity never
    passes as under the limit), a missing date of birth where there is a minimum age, convictions
    the version cannot judge (`convictions.screening_problem`).
    """
    if policies.latest(command.jurisdiction) is None:
        raise InvalidReferral("jurisdiction", f"unknown jurisdiction {command.jurisdiction!r}")
    policy = policies.effective_at(command.jurisdiction, command.referred_at)
    if policy is None:
        raise InvalidReferral("referred_at", "referred_at is before the jurisdiction's first policy took effect")
    if command.pathway not in policy.pathways:
        raise InvalidReferral("pathway", f"{policy.name} does not accept {command.pathway} referrals")
    if command.pathway == "arrest_diversion" and command.offense is None:
        raise InvalidReferral("offense", "an arrest diversion needs the offense")
    if command.offense is not None:
        _check_offense(command.offense, policy)
    if policy.minimum_age is not None and command.subject.date_of_birth is None:
        raise InvalidReferral("subject.date_of_birth", f"{policy.name} has a minimum age: the date of birth is needed")
    referred_on = command.referred_at.astimezone(policy.zone).date()
    if (problem := screening_problem(policy, command.screening, referred_on)) is not None:
        raise InvalidReferral(problem.field, problem.message)
    return policy


def _check_offense(offense: Offense, policy: JurisdictionPolicy) -> None:
    """Refuse an offense that lacks what its category's rule needs to be judged."""
    rule = policy.offense_rule(offense.category)
    if rule is None:
        return
    if rule.drug_types and offense.drug_type is None:
        raise InvalidReferral(
            "offense.drug_type",
            f"{policy.name} diverts {offense.category} only for some drug types: the drug type is needed",
        )
    if offense.drug_quantity_grams is None and rule.needs_quantity(offense.drug_type):
        raise InvalidReferral(
            "offense.drug_quantity_grams",
            f"{policy.name} limits {offense.category} to {rule.max_drug_grams:g} g: the quantity is needed",
        )


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
_WITHDRAWABLE = {
    ReferralStatus.PENDING_APPROVAL,
    ReferralStatus.ACCEPTED,
    ReferralStatus.ASSESSED,
    ReferralStatus.LAPSED,
}


@dataclass
class Referral(Aggregate[events.ReferralEvent]):
    """A referral: takes commands, checks them against its status, records events."""

    stream_prefix = "referral"

    status: ReferralStatus | None = None
    jurisdiction: str = ""
    pathway: Pathway | None = None
    assessment_due_by: datetime | None = None
    lapse_action: LapseAction | None = None
    decision: Decision | None = None
    warrant_requested: bool = False
    enrolled: bool = False
    closed: bool = False
    case_opened: bool = False
    assessed_on_time: bool = False
    lapsed_at: datetime | None = None
    """When the window was recorded as lapsed (kept after a later withdrawal or on-time assessment)."""
    reminders: tuple[Reminder, ...] = ()
    """The reminders before the due time in force, earliest first."""
    reminded: frozenset[tuple[datetime, int]] = frozenset()
    """(due time, days before) of every reminder raised: each is raised once."""
    _waiting: events.ApprovalRequested | None = field(default=None, repr=False, compare=False)
    held: events.HeldContact | None = field(default=None, repr=False, compare=False)
    """The person's details a submission held back from the event store while the referral waits
    at its approval gate: set by `submit` only, for the handler to keep aside (`HeldContacts`)."""
    decision_told: Decision | None = field(default=None, repr=False, compare=False)
    """The decision with every reason, screening ones included, as `submit` made it: for the
    officer's response to the submission only. Never stored, so None on a referral loaded from its
    events; `decision` is what is kept (screening reasons as one `screening` reason)."""

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
    def submit(cls, command: SubmitReferral, policy: JurisdictionPolicy) -> "Referral":
        """Decide eligibility under `policy` and record the outcome; screening facts end here.

        The recorded decision keeps the reasons resting on the offense and only one `screening`
        reason for those resting on screening facts; `decision_told` has them all, for the officer.
        Under a policy with an approval gate the decision is only recommended: the referral waits
        for its approver (`decide_approval`) or its timer (`apply_approval_timeout`).
        """
        if command.referred_at > command.at:
            raise InvalidReferral("referred_at", "referred_at is in the future")
        decision = decide(policy, eligibility_facts(command, policy))
        referral = cls(id=command.referral_id, decision_told=decision)
        offense = command.offense
        if policy.approval is not None:
            referral._record(
                events.ApprovalRequested(
                    referral_id=command.referral_id,
                    jurisdiction=policy.id,
                    pathway=command.pathway,
                    referred_at=command.referred_at,
                    policy=policy.id,
                    policy_version=policy.version,
                    recommended=decision.eligible,
                    reasons=_records(decision.kept.reasons),
                    approver=policy.approval.by,
                    decide_by=command.at + policy.approval.within,
                    on_timeout=policy.approval.on_timeout,
                    requested_at=command.at,
                    rms=command.rms,
                    offense_category=offense.category if offense else None,
                    offense_statute=offense.statute if offense else None,
                    contact_drivers=command.contact_drivers,
                    precinct=command.location.precinct,
                )
            )
            referral.held = events.HeldContact(subject=command.subject, location=command.location)
        elif decision.eligible:
            referral._accept(policy, _Acceptance.of(command), at=command.at)
        else:
            referral._decline(policy, _Acceptance.of(command), _records(decision.kept.reasons))
        return referral

    @property
    def approval(self) -> events.ApprovalRequested | None:
        """The request of a referral waiting for its approver; None once decided (or never gated)."""
        return self._waiting if self.status == ReferralStatus.PENDING_APPROVAL else None

    def decide_approval(
        self, command: DecideApproval, policy: JurisdictionPolicy, held: events.HeldContact, *, actor: str
    ) -> None:
        """The approver accepts or declines the waiting referral, with a reason code; `policy` is
        the version that judged it (`approval.policy_version`), `held` the person's details kept
        while it waited.

        Raises `InvalidTransition` when the referral is not waiting, `ApprovalForbidden` when the
        caller's role is not the policy's approver, `InvalidReferral` naming `reason_code` when the
        code cannot justify the outcome (an override of the rules' decline must say why).
        """
        waiting = self._require_waiting()
        if command.role != waiting.approver:
            raise ApprovalForbidden(waiting.approver)
        if (problem := approval_problem(command.outcome, command.reason_code, waiting.recommended)) is not None:
            raise InvalidReferral("reason_code", problem)
        approved = command.outcome == "approve"
        decided = (actor, command.role, command.reason_code)
        denial = events.ReasonRecord(code=APPROVAL_DENIED, message=f"The {waiting.approver} declined the referral.")
        self._settle(waiting, policy, held, approved, decided, denial, command.at)

    def apply_approval_timeout(
        self, command: ApplyApprovalTimeout, policy: JurisdictionPolicy, held: events.HeldContact
    ) -> bool:
        """Nobody decided in time: a referral the rules found eligible follows the policy's
        `on_timeout`, any other is declined (a timer never overrides the rules). True when it was
        decided now; False when the record says it is not waiting (decided already: the timer's
        word came late) or its time is not up by `command.at` (the caller retries then)."""
        waiting = self.approval
        if waiting is None or command.at < waiting.decide_by:
            return False
        approved = waiting.recommended and waiting.on_timeout == "accept"
        decided = (TIMEOUT_DECIDER, TIMEOUT_DECIDER, "on_timeout_accept" if approved else APPROVAL_TIMED_OUT)
        message = "Nobody decided in time and the policy declines referrals left undecided."
        timed_out = events.ReasonRecord(code=APPROVAL_TIMED_OUT, message=message)
        self._settle(waiting, policy, held, approved, decided, timed_out, command.at)
        return True

    def _require_waiting(self) -> events.ApprovalRequested:
        if (waiting := self.approval) is None:
            raise InvalidTransition(f"cannot decide the approval of a referral that is {self.status}", self.status)
        return waiting

    def _settle(
        self,
        waiting: events.ApprovalRequested,
        policy: JurisdictionPolicy,
        held: events.HeldContact,
        approved: bool,
        decided: tuple[str, str, str],
        decline: events.ReasonRecord,
        at: datetime,
    ) -> None:
        """Record the decision (`decided`: by whom, in which role, the reason code), then its
        outcome: accepted (the assessment window starts now), or declined with the rules' kept
        reasons (if they recommended a decline) and `decline`. Accepting what the rules declined
        is an override."""
        by, role, reason_code = decided
        self._record(
            events.ApprovalDecided(
                referral_id=self.id,
                approved=approved,
                decided_by=by,
                role=role,
                reason_code=reason_code,
                overrides_decline=approved and not waiting.recommended,
                decided_at=at,
            )
        )
        acceptance = _Acceptance.of_request(waiting, held)
        if approved:
            self._accept(policy, acceptance, at=at)
        else:
            self._decline(policy, acceptance, (*waiting.reasons, decline))

    def _accept(self, policy: JurisdictionPolicy, acceptance: "_Acceptance", *, at: datetime) -> None:
        """Record the acceptance: an arrest diversion's window runs from `start` (the referral's
        time, or the approval's), its reminders counted from `at` (one already past is left out)."""
        has_deadline = acceptance.pathway == "arrest_diversion"
        start = acceptance.referred_at if acceptance.starts_at_referral else at
        due_by = assessment_due_by(policy, start) if has_deadline else None
        reminders = reminder_schedule(policy, due_by, after=at) if due_by is not None else ()
        self._record(
            events.ReferralAccepted(
                referral_id=self.id,
                jurisdiction=policy.id,
                pathway=acceptance.pathway,
                referred_at=acceptance.referred_at,
                policy=policy.id,
                policy_version=policy.version,
                assessment_due_by=due_by,
                lapse_action=policy.lapse_action if has_deadline else None,
                rms=acceptance.rms,
                subject=acceptance.subject,
                location=acceptance.location,
                offense_category=acceptance.offense_category,
                offense_statute=acceptance.offense_statute,
                contact_drivers=acceptance.contact_drivers,
                assessment_reminders=reminders,
                approved_at=None if acceptance.starts_at_referral else at,
            )
        )

    def _decline(
        self, policy: JurisdictionPolicy, acceptance: "_Acceptance", reasons: tuple[events.ReasonRecord, ...]
    ) -> None:
        self._record(
            events.ReferralDeclined(
                referral_id=self.id,
                jurisdiction=policy.id,
                pathway=acceptance.pathway,
                referred_at=acceptance.referred_at,
                policy=policy.id,
                policy_version=policy.version,
                reasons=reasons,
                rms=acceptance.rms,
                precinct=acceptance.location.precinct,
            )
        )

    def record_assessment(self, completed_at: datetime) -> None:
        """The case agency completed the assessment; a repeat notice changes nothing.

        A lapsed referral whose assessment was in fact completed by the due time (its notice was
        delayed) becomes assessed on time: warrants rescinds the request on the same event.
        """
        on_time = self.assessment_due_by is None or completed_at <= self.assessment_due_by
        timely_but_late_news = self.status == ReferralStatus.LAPSED and on_time
        if self.status == ReferralStatus.ACCEPTED or timely_but_late_news:
            self._record(events.AssessmentRecorded(referral_id=self.id, completed_at=completed_at, on_time=on_time))

    @property
    def deadline_pending(self) -> bool:
        """An arrest diversion whose window is still open by this record: accepted, and neither
        assessed, lapsed nor withdrawn. Only such a referral may have a running deadline clock."""
        return (
            self.status == ReferralStatus.ACCEPTED
            and self.pathway == "arrest_diversion"
            and self.assessment_due_by is not None
            and self.lapse_action is not None
        )

    def lapse_refusal(self, due_by: datetime, now: datetime) -> LapseRefusal | None:
        """Why this record contradicts a lapse of the window ending `due_by`, seen at `now`; None
        when the window did lapse (or its lapse was recorded already).

        The deadline workflow's word is a claim, checked here against the referral's own facts: an
        accepted arrest diversion, the due time in force (extensions included), past by `now`, not
        withdrawn and not assessed on time. An assessment completed after the due time does not
        stop the lapse.
        """
        if self.pathway != "arrest_diversion":
            return LapseRefusal.NOT_ARREST_DIVERSION
        if self.status in (None, ReferralStatus.DECLINED) or self.assessment_due_by is None:
            return LapseRefusal.NOT_ACCEPTED
        if self.lapsed_at is not None:  # the same lapse again is no news; another due time is a claim of its own
            return None if due_by == self.assessment_due_by else LapseRefusal.DUE_TIME_MISMATCH
        if self.status == ReferralStatus.WITHDRAWN:
            return LapseRefusal.WITHDRAWN
        if self.status == ReferralStatus.ASSESSED and self.assessed_on_time:
            return LapseRefusal.ASSESSED_ON_TIME
        if due_by != self.assessment_due_by:
            return LapseRefusal.DUE_TIME_MISMATCH
        if now < self.assessment_due_by:
            return LapseRefusal.NOT_YET_DUE
        return None

    def record_lapse(self, due_by: datetime, lapsed_at: datetime, now: datetime) -> None:
        """The window ending `due_by` closed without an assessment: record it once; a repeat
        changes nothing. Raises `LapseRefused` when the record contradicts it (`lapse_refusal`).

        The lapse time reported is kept between the due time and `now`: it cannot precede the
        window's end, nor lie in the recorder's future.
        """
        if (refusal := self.lapse_refusal(due_by, now)) is not None:
            raise LapseRefused(refusal)
        if self.lapsed_at is not None or self.assessment_due_by is None or self.lapse_action is None:
            return
        self._record(
            events.AssessmentDeadlineLapsed(
                referral_id=self.id,
                jurisdiction=self.jurisdiction,
                assessment_due_by=self.assessment_due_by,
                lapsed_at=min(max(lapsed_at, self.assessment_due_by), now),
                lapse_action=self.lapse_action,
            )
        )

    def reminder_refusal(self, due_by: datetime, at: datetime, now: datetime) -> ReminderRefusal | None:
        """Why this record contradicts a reminder at `at` before the due time `due_by`, seen at
        `now`; None when it is one of the reminders in force of a window still open.

        Like a lapse, the deadline workflow's word is a claim: the referral must be an arrest
        diversion awaiting assessment (not assessed, lapsed nor withdrawn), `due_by` the due time
        in force and `at` one of its reminders, reached by `now`.
        """
        if not self.deadline_pending:
            return ReminderRefusal.NOT_PENDING
        if due_by != self.assessment_due_by:
            return ReminderRefusal.DUE_TIME_MISMATCH
        if not any(reminder.at == at for reminder in self.reminders):
            return ReminderRefusal.UNKNOWN_REMINDER
        if now < at:
            return ReminderRefusal.NOT_YET_DUE
        return None

    def remind(self, due_by: datetime, at: datetime, now: datetime) -> bool:
        """Raise the reminder at `at` before the due time `due_by`, once: True when it was
        recorded now, False when it had been already. Raises `ReminderRefused` when the record
        contradicts it (`reminder_refusal`)."""
        if (refusal := self.reminder_refusal(due_by, at, now)) is not None:
            raise ReminderRefused(refusal)
        reminder = next(r for r in self.reminders if r.at == at)
        if (due_by, reminder.days_before) in self.reminded:
            return False
        later = [r.at for r in self.reminders if r.at > at]
        self._record(
            events.AssessmentDueSoon(
                referral_id=self.id,
                jurisdiction=self.jurisdiction,
                assessment_due_by=due_by,
                reminded_at=max(at, min(now, due_by)),
                days_before=reminder.days_before,
                next_reminder_at=later[0] if later else None,
            )
        )
        return True

    @property
    def reminded_before_due(self) -> bool:
        """Whether a reminder was raised for the due time in force."""
        return any(due == self.assessment_due_by for due, _ in self.reminded)

    def withdraw(self, reason: str, now: datetime) -> None:
        """The referring agency withdraws the referral; its clock stops and no warrant may stand."""
        if self.status not in _WITHDRAWABLE:
            raise InvalidTransition(f"a {self.status} referral cannot be withdrawn", self.status)
        self._record(
            events.ReferralWithdrawn(
                referral_id=self.id, jurisdiction=self.jurisdiction, reason=reason, withdrawn_at=now
            )
        )

    def extend_deadline(
        self, new_due: datetime, reason: str, now: datetime, policy: JurisdictionPolicy | None = None
    ) -> None:
        """Move a pending arrest diversion's due time later (several extensions are allowed).

        Its reminders move with it: `policy`'s (the version that accepted the referral) counted
        back from the new due time, leaving out those at or before `now`.
        """
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
                assessment_reminders=reminder_schedule(policy, new_due, after=now) if policy is not None else (),
            )
        )

    def note_warrant_request(self, warrant_request_id: UUID, requested_at: datetime | None = None) -> None:
        """Remember that warrants recorded a request (police see only yes/no); repeats change nothing."""
        if not self.warrant_requested:
            self._record(
                events.WarrantRequestNoted(
                    referral_id=self.id, warrant_request_id=warrant_request_id, requested_at=requested_at
                )
            )

    def note_case_opening(self, opened_at: datetime) -> None:
        """A case agency opened a case for the referral (counted in reports); repeats change nothing."""
        if not self.case_opened:
            self._record(events.CaseOpeningNoted(referral_id=self.id, opened_at=opened_at))

    def note_enrollment(self, enrolled_at: datetime) -> None:
        """The person enrolled with the case agency; repeats change nothing."""
        if not self.enrolled:
            self._record(events.EnrollmentNoted(referral_id=self.id, enrolled_at=enrolled_at))

    def note_closure(self, closed_at: datetime) -> None:
        """The case agency closed the case; repeats change nothing."""
        if not self.closed:
            self._record(events.ClosureNoted(referral_id=self.id, closed_at=closed_at))

    def note_warrant_rescission(self, warrant_request_id: UUID, rescinded_at: datetime | None = None) -> None:
        """Warrants rescinded the request: police no longer see one standing."""
        if self.warrant_requested:
            self._record(
                events.WarrantRescissionNoted(
                    referral_id=self.id, warrant_request_id=warrant_request_id, rescinded_at=rescinded_at
                )
            )

    @applies
    def _approval_requested(self, event: events.ApprovalRequested) -> None:
        self.status, self._waiting = ReferralStatus.PENDING_APPROVAL, event
        self.jurisdiction, self.pathway = event.jurisdiction, event.pathway

    @applies
    def _approval_decided(self, event: events.ApprovalDecided) -> None:
        pass  # the acceptance or decline recorded with it changes the status

    @applies
    def _accepted(self, event: events.ReferralAccepted) -> None:
        self.status = ReferralStatus.ACCEPTED
        self.jurisdiction, self.pathway = event.jurisdiction, event.pathway
        self.assessment_due_by, self.lapse_action = event.assessment_due_by, event.lapse_action
        self.reminders = event.assessment_reminders
        self.decision = Decision(True, event.policy, event.policy_version, ())

    @applies
    def _declined(self, event: events.ReferralDeclined) -> None:
        self.status = ReferralStatus.DECLINED
        self.jurisdiction, self.pathway = event.jurisdiction, event.pathway
        # Kept again on the way in: an event stored before screening reasons were kept as one
        # `screening` reason must not bring them back.
        reasons = tuple(stored(r.code, r.message) for r in event.reasons)
        self.decision = Decision(False, event.policy, event.policy_version, reasons).kept

    @applies
    def _assessed(self, event: events.AssessmentRecorded) -> None:
        self.status, self.assessed_on_time = ReferralStatus.ASSESSED, event.on_time

    @applies
    def _lapsed(self, event: events.AssessmentDeadlineLapsed) -> None:
        self.status, self.lapsed_at = ReferralStatus.LAPSED, event.lapsed_at

    @applies
    def _withdrawn(self, event: events.ReferralWithdrawn) -> None:
        self.status = ReferralStatus.WITHDRAWN

    @applies
    def _extended(self, event: events.DeadlineExtended) -> None:
        self.assessment_due_by, self.reminders = event.assessment_due_by, event.assessment_reminders

    @applies
    def _due_soon(self, event: events.AssessmentDueSoon) -> None:
        self.reminded |= {(event.assessment_due_by, event.days_before)}

    @applies
    def _warrant_requested(self, event: events.WarrantRequestNoted) -> None:
        self.warrant_requested = True

    @applies
    def _warrant_rescinded(self, event: events.WarrantRescissionNoted) -> None:
        self.warrant_requested = False

    @applies
    def _enrolled(self, event: events.EnrollmentNoted) -> None:
        self.enrolled = True

    @applies
    def _closed(self, event: events.ClosureNoted) -> None:
        self.closed = True

    @applies
    def _case_opened(self, event: events.CaseOpeningNoted) -> None:
        self.case_opened = True


class ApprovalForbidden(PermissionError):
    """The caller's role is not the approver the referral's policy names."""

    def __init__(self, approver: str) -> None:
        super().__init__(f"only the jurisdiction's {approver} decides this referral's approval")
        self.approver = approver


@dataclass(frozen=True)
class _Acceptance:
    """What an acceptance (or a decline) publishes of the referral, from the submission or from the
    approval request that held it while the referral waited."""

    pathway: Pathway
    referred_at: datetime
    rms: RmsReference
    subject: Subject
    location: Location
    offense_category: str | None
    offense_statute: str | None
    contact_drivers: tuple[str, ...]
    starts_at_referral: bool
    """The assessment window runs from the referral (decided at once) or from the acceptance (approved)."""

    @classmethod
    def of(cls, command: SubmitReferral) -> "_Acceptance":
        offense = command.offense
        return cls(
            pathway=command.pathway,
            referred_at=command.referred_at,
            rms=command.rms,
            subject=command.subject,
            location=command.location,
            offense_category=offense.category if offense else None,
            offense_statute=offense.statute if offense else None,
            contact_drivers=command.contact_drivers,
            starts_at_referral=True,
        )

    @classmethod
    def of_request(cls, request: events.ApprovalRequested, held: events.HeldContact) -> "_Acceptance":
        return cls(
            pathway=request.pathway,
            referred_at=request.referred_at,
            rms=request.rms,
            subject=held.subject,
            location=held.location,
            offense_category=request.offense_category,
            offense_statute=request.offense_statute,
            contact_drivers=request.contact_drivers,
            starts_at_referral=False,
        )


def _records(reasons: tuple[Reason, ...]) -> tuple[events.ReasonRecord, ...]:
    return tuple(events.ReasonRecord(code=r.code, message=r.message) for r in reasons)
