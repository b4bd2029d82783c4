"""The case aggregate: one referral's case at the agency, rebuilt from its events.

    pending_assessment → assessed → enrolled (active ⇄ inactive) | declined
    any open state → closed → (reopened) the state it had when it was closed

Reopening returns the case to where it stood, rather than to pending assessment: the assessment,
enrollment or decline did happen and stays true, and an enrolled participant keeps their
engagement. Starting over is what a re-referral is for (a new case linked to this one).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never
from uuid import UUID

from divert_assessment.domain import events, rules
from divert_assessment.domain.commands import (
    AssignManager,
    CaseCommand,
    ChangeEngagement,
    Close,
    CompleteAssessment,
    Decline,
    Enroll,
    OpenCase,
    RecordConsent,
    RecordContact,
    Reopen,
    RevokeConsent,
)
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_assessment.domain.state import CaseState
from divert_assessment.domain.status import OPEN_STATES, CaseStatus

__all__ = ["Case", "CaseStatus"]


@dataclass
class Case(CaseState):
    """A case: takes commands, checks them against its state and rules, records events."""

    @classmethod
    def from_events(cls, referral_id: UUID, history: list[events.DomainEvent]) -> "Case":
        """Rebuild the case from its stored events."""
        case = cls(id=referral_id)
        for event in history:
            case._apply(event)
            case.version += 1
        return case

    def open(self, command: OpenCase, now: datetime) -> None:
        """Open the case pending assessment; a case already open is left as it is.

        Referral events are delivered at least once, so the same acceptance can arrive again
        under a new CloudEvents id; it must never open a second case or reset this one.
        """
        if self.status is not None:
            return
        self._record(
            events.CaseOpened(
                referral_id=self.id,
                jurisdiction=command.jurisdiction,
                pathway=command.pathway,
                referred_at=command.referred_at,
                assessment_due_by=command.assessment_due_by,
                opened_at=now,
                subject=command.subject,
                rms_agency=command.rms_agency,
                previous_referral_id=command.previous_referral_id,
                agency=command.agency,
            )
        )

    def handle(self, command: CaseCommand, now: datetime) -> None:
        """Apply `command` at `now`, recording its event, or raise why the case refuses it."""
        match command:
            case CompleteAssessment():
                self._complete_assessment(command, now)
            case AssignManager():
                self._assign_manager(command, now)
            case RecordContact():
                self._record_contact(command, now)
            case RecordConsent():
                self._record_consent(command, now)
            case RevokeConsent():
                self._revoke_consent(command, now)
            case Enroll():
                self._enroll(command, now)
            case Decline():
                self._require("decline", CaseStatus.ASSESSED)
                self._record(events.ParticipantDeclined(**self.about(), reason=command.reason, declined_at=now))
            case ChangeEngagement():
                self._change_engagement(command, now)
            case Close():
                self._close(command, now)
            case Reopen():
                self._reopen(now)
            case _:
                assert_never(command)

    def _complete_assessment(self, command: CompleteAssessment, now: datetime) -> None:
        """Record the assessment, judged on time against the due time; only once per case."""
        self._require("complete the assessment", CaseStatus.PENDING_ASSESSMENT)
        self._check(
            rules.is_not_in_the_future("completed_at", command.completed_at, now),
            rules.is_not_before_the_referral("completed_at", command.completed_at, self._referred_at),
            rules.each_need_domain_appears_once(need.domain for need in command.needs),
            rules.each_priority_is_from_one_to_ten(need.priority for need in command.needs),
        )
        self._record(
            events.AssessmentCompleted(
                **self.about(),
                completed_at=command.completed_at,
                case_manager_id=command.case_manager_id,
                assessment_due_by=self.assessment_due_by,
                on_time=rules.is_on_time(command.completed_at, self.assessment_due_by),
                needs=tuple(
                    events.NeedRecord(domain=need.domain, priority=need.priority, part2=rules.is_part2(need.domain))
                    for need in command.needs
                ),
            )
        )

    def _assign_manager(self, command: AssignManager, now: datetime) -> None:
        self._require("assign a case manager", *OPEN_STATES)
        if command.case_manager_id == self.case_manager_id:
            raise InvalidTransition(
                "assign a case manager", self.status, self.engagement, f", already with {self.case_manager_id}"
            )
        self._record(
            events.ManagerAssigned(
                **self.about(), case_manager_id=command.case_manager_id, agency=command.agency, assigned_at=now
            )
        )

    def _record_contact(self, command: RecordContact, now: datetime) -> None:
        self._require("record a contact", *OPEN_STATES)
        self._check(
            rules.is_not_in_the_future("at", command.at, now),
            rules.is_not_before_the_referral("at", command.at, self._referred_at),
        )
        self._record(
            events.ContactRecorded(
                **self.about(),
                contact_id=command.contact_id,
                at=command.at,
                method=command.method,
                outcome=command.outcome,
                first_made=command.outcome == "made" and not self.contact_made,
            )
        )

    def _record_consent(self, command: RecordConsent, now: datetime) -> None:
        self._require("record a consent", *OPEN_STATES)
        self._check(rules.expires_after_now(command.expires_at, now), rules.each_party_is_named_once(command.parties))
        self._record(
            events.ConsentRecorded(
                **self.about(),
                consent_id=command.consent_id,
                parties=command.parties,
                purpose=command.purpose,
                scope=command.scope,
                part2=command.part2,
                recorded_at=now,
                expires_at=command.expires_at,
            )
        )

    def _revoke_consent(self, command: RevokeConsent, now: datetime) -> None:
        """Allowed in every state, closed included: a person may always withdraw consent."""
        if command.consent_id not in self.consents:
            raise ConsentNotFound(command.consent_id)
        if (revoked_at := self.consents[command.consent_id]) is not None:
            raise ConsentAlreadyRevoked(command.consent_id, revoked_at)
        self._record(events.ConsentRevoked(**self.about(), consent_id=command.consent_id, revoked_at=now))

    def _enroll(self, command: Enroll, now: datetime) -> None:
        self._require("enroll", CaseStatus.ASSESSED)
        self._check(
            rules.is_not_in_the_future("enrolled_at", command.enrolled_at, now),
            rules.is_not_before_the_referral("enrolled_at", command.enrolled_at, self._referred_at),
            rules.is_not_before_the_assessment("enrolled_at", command.enrolled_at, self.assessed_at),
        )
        self._record(events.ParticipantEnrolled(**self.about(), enrolled_at=command.enrolled_at))

    def _change_engagement(self, command: ChangeEngagement, now: datetime) -> None:
        action = f"make the participant {command.engagement}"
        self._require(action, CaseStatus.ENROLLED)
        if command.engagement == self.engagement:
            raise InvalidTransition(action, self.status, self.engagement, " already")
        self._record(events.EngagementChanged(**self.about(), engagement=command.engagement, changed_at=now))

    def _close(self, command: Close, now: datetime) -> None:
        self._require("close the case", *OPEN_STATES)
        assert self.opened_at is not None  # every open state starts with CaseOpened
        self._check(
            rules.is_not_in_the_future("closed_at", command.closed_at, now),
            rules.is_not_before_the_opening("closed_at", command.closed_at, self.opened_at),
        )
        self._record(events.CaseClosed(**self.about(), reason=command.reason, closed_at=command.closed_at))

    def _reopen(self, now: datetime) -> None:
        self._require("reopen the case", CaseStatus.CLOSED)
        assert self.status_before_closing is not None  # set by CaseClosed
        self._record(
            events.CaseReopened(
                **self.about(), reopened_at=now, status=self.status_before_closing, engagement=self.engagement
            )
        )

    @property
    def _referred_at(self) -> datetime:
        assert self.referred_at is not None  # every state after opening has it
        return self.referred_at

    def _require(self, action: str, *allowed: CaseStatus) -> None:
        if self.status not in allowed:
            raise InvalidTransition(action, self.status, self.engagement)

    @staticmethod
    def _check(*found: rules.Violation | None) -> None:
        violations = [violation for violation in found if violation is not None]
        if violations:
            raise RulesBroken(violations)
