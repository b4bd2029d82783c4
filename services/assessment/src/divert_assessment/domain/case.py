"""The case aggregate: one referral's case at the agency, rebuilt from its events.

    pending_assessment → assessed → enrolled (active ⇄ inactive) | declined
    any open state → closed → (reopened) the state it had when it was closed

Reopening returns the case to where it stood, rather than to pending assessment: the assessment,
enrollment or decline did happen and stays true, and an enrolled participant keeps their
engagement. Starting over is what a re-referral is for (a new case linked to this one).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict
from uuid import UUID

from divert_assessment.domain import events, rules
from divert_assessment.domain.commands import (
    AssignManager,
    ChangeEngagement,
    Close,
    CompleteAssessment,
    Decline,
    Enroll,
    ExtendDeadline,
    OpenCase,
    RecordConsent,
    RecordContact,
    RecordReminder,
    Reopen,
    RevokeConsent,
)
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_assessment.domain.status import OPEN_STATES, CaseStatus
from divert_contracts.cases import Engagement
from divert_platform.aggregate import Aggregate, applies

__all__ = ["Case", "CaseStatus"]


class About(TypedDict):
    """The fields every event of the case carries."""

    referral_id: UUID
    jurisdiction: str


@dataclass
class Case(Aggregate[events.CaseEvent]):
    """A case: takes commands, checks them against its state and rules, records events.

    Its id is the referral's: one case per accepted referral.
    """

    stream_prefix = "case"

    status: CaseStatus | None = None
    engagement: Engagement | None = None
    jurisdiction: str = ""
    referred_at: datetime | None = None
    opened_at: datetime | None = None
    assessment_due_by: datetime | None = None
    assessed_at: datetime | None = None
    case_manager_id: str | None = None
    contact_made: bool = False
    consents: dict[UUID, datetime | None] = field(default_factory=dict)
    """Each consent recorded, with when it was revoked (None while not revoked)."""
    status_before_closing: CaseStatus | None = None
    last_reminded_at: datetime | None = None

    def open(self, command: OpenCase) -> None:
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
                opened_at=command.at,
                subject=command.subject,
                rms_agency=command.rms_agency,
                previous_referral_id=command.previous_referral_id,
                agency=command.agency,
                assessment_reminders_at=command.assessment_reminders_at,
                precinct=command.precinct,
                policy_version=command.policy_version,
            )
        )

    def record_reminder(self, command: RecordReminder) -> None:
        """Mark the case reminded that its assessment is due soon; a reminder that no longer
        concerns it changes nothing.

        Ignored: once the case is not pending assessment (assessed or closed before the reminder
        arrived), when it names a due time the case no longer has (raised before an extension), and
        when it is not later than the last one recorded (the same reminder published again).
        """
        if self.status is not CaseStatus.PENDING_ASSESSMENT or command.assessment_due_by != self.assessment_due_by:
            return
        if self.last_reminded_at is not None and command.reminded_at <= self.last_reminded_at:
            return
        self._record(
            events.AssessmentReminded(
                **self.about(),
                reminded_at=command.reminded_at,
                days_before=command.days_before,
                assessment_due_by=command.assessment_due_by,
            )
        )

    def extend_deadline(self, command: ExtendDeadline) -> None:
        """Move the due time the assessment is judged against later, with its reminders.

        Ignored once the case is assessed (it was judged against the due time it had), for a case
        without a due time, and unless it moves the due time later (the same extension again).
        """
        if self.status is None or self.assessed_at is not None or self.assessment_due_by is None:
            return
        if command.assessment_due_by <= self.assessment_due_by:
            return
        self._record(
            events.AssessmentDeadlineExtended(
                **self.about(),
                previous_due_by=self.assessment_due_by,
                assessment_due_by=command.assessment_due_by,
                extended_at=command.extended_at,
                assessment_reminders_at=command.assessment_reminders_at,
            )
        )

    def complete_assessment(self, command: CompleteAssessment) -> None:
        """Record the assessment, judged on time against the due time (as extended); only once per case."""
        self._require("complete the assessment", CaseStatus.PENDING_ASSESSMENT)
        self._check(
            rules.is_not_in_the_future("completed_at", command.completed_at, command.at),
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

    def assign_manager(self, command: AssignManager) -> None:
        """Give the open case to a case manager other than the one it has."""
        self._require("assign a case manager", *OPEN_STATES)
        if command.case_manager_id == self.case_manager_id:
            raise InvalidTransition(
                "assign a case manager", self.status, self.engagement, f", already with {self.case_manager_id}"
            )
        self._record(
            events.ManagerAssigned(
                **self.about(), case_manager_id=command.case_manager_id, agency=command.agency, assigned_at=command.at
            )
        )

    def record_contact(self, command: RecordContact) -> None:
        """Record a contact attempted or made; the first one made is the warm hand-off."""
        self._require("record a contact", *OPEN_STATES)
        self._check(
            rules.is_not_in_the_future("at", command.contacted_at, command.at),
            rules.is_not_before_the_referral("at", command.contacted_at, self._referred_at),
        )
        self._record(
            events.ContactRecorded(
                **self.about(),
                contact_id=command.contact_id,
                at=command.contacted_at,
                method=command.method,
                outcome=command.outcome,
                first_made=command.outcome == "made" and not self.contact_made,
            )
        )

    def record_consent(self, command: RecordConsent) -> None:
        """Record a consent still in force, naming each party once."""
        self._require("record a consent", *OPEN_STATES)
        self._check(
            rules.expires_after_now(command.expires_at, command.at), rules.each_party_is_named_once(command.parties)
        )
        self._record(
            events.ConsentRecorded(
                **self.about(),
                consent_id=command.consent_id,
                parties=command.parties,
                purpose=command.purpose,
                scope=command.scope,
                part2=command.part2,
                recorded_at=command.at,
                expires_at=command.expires_at,
            )
        )

    def revoke_consent(self, command: RevokeConsent) -> None:
        """Allowed in every state, closed included: a person may always withdraw consent (once)."""
        if command.consent_id not in self.consents:
            raise ConsentNotFound(command.consent_id)
        if (revoked_at := self.consents[command.consent_id]) is not None:
            raise ConsentAlreadyRevoked(command.consent_id, revoked_at)
        self._record(events.ConsentRevoked(**self.about(), consent_id=command.consent_id, revoked_at=command.at))

    def enroll(self, command: Enroll) -> None:
        """The assessed person enrolls, not before the assessment nor in the future."""
        self._require("enroll", CaseStatus.ASSESSED)
        self._check(
            rules.is_not_in_the_future("enrolled_at", command.enrolled_at, command.at),
            rules.is_not_before_the_referral("enrolled_at", command.enrolled_at, self._referred_at),
            rules.is_not_before_the_assessment("enrolled_at", command.enrolled_at, self.assessed_at),
        )
        self._record(events.ParticipantEnrolled(**self.about(), enrolled_at=command.enrolled_at))

    def decline(self, command: Decline) -> None:
        """The assessed person chooses not to enroll."""
        self._require("decline", CaseStatus.ASSESSED)
        self._record(events.ParticipantDeclined(**self.about(), reason=command.reason, declined_at=command.at))

    def change_engagement(self, command: ChangeEngagement) -> None:
        """An enrolled participant becomes active or inactive (not what they already are)."""
        action = f"make the participant {command.engagement}"
        self._require(action, CaseStatus.ENROLLED)
        if command.engagement == self.engagement:
            raise InvalidTransition(action, self.status, self.engagement, " already")
        self._record(events.EngagementChanged(**self.about(), engagement=command.engagement, changed_at=command.at))

    def close(self, command: Close) -> None:
        """Close an open case, not before it opened nor in the future."""
        self._require("close the case", *OPEN_STATES)
        assert self.opened_at is not None  # every open state starts with CaseOpened
        self._check(
            rules.is_not_in_the_future("closed_at", command.closed_at, command.at),
            rules.is_not_before_the_opening("closed_at", command.closed_at, self.opened_at),
        )
        self._record(events.CaseClosed(**self.about(), reason=command.reason, closed_at=command.closed_at))

    def reopen(self, command: Reopen) -> None:
        """Open a closed case again, in the state (and engagement) it had when it was closed."""
        self._require("reopen the case", CaseStatus.CLOSED)
        assert self.status_before_closing is not None  # set by CaseClosed
        self._record(
            events.CaseReopened(
                **self.about(), reopened_at=command.at, status=self.status_before_closing, engagement=self.engagement
            )
        )

    def about(self) -> About:
        """This case's id and jurisdiction, as every event carries them."""
        return {"referral_id": self.id, "jurisdiction": self.jurisdiction}

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

    @applies
    def _opened(self, event: events.CaseOpened) -> None:
        self.status, self.jurisdiction = CaseStatus.PENDING_ASSESSMENT, event.jurisdiction
        self.referred_at, self.opened_at = event.referred_at, event.opened_at
        self.assessment_due_by = event.assessment_due_by

    @applies
    def _reminded(self, event: events.AssessmentReminded) -> None:
        self.last_reminded_at = event.reminded_at

    @applies
    def _deadline_extended(self, event: events.AssessmentDeadlineExtended) -> None:
        self.assessment_due_by = event.assessment_due_by

    @applies
    def _assessed(self, event: events.AssessmentCompleted) -> None:
        self.status, self.assessed_at = CaseStatus.ASSESSED, event.completed_at
        # whoever assessed looks after the case until a manager is assigned
        self.case_manager_id = self.case_manager_id or event.case_manager_id

    @applies
    def _manager_assigned(self, event: events.ManagerAssigned) -> None:
        self.case_manager_id = event.case_manager_id

    @applies
    def _contact_recorded(self, event: events.ContactRecorded) -> None:
        self.contact_made = self.contact_made or event.outcome == "made"

    @applies
    def _consent_recorded(self, event: events.ConsentRecorded) -> None:
        self.consents[event.consent_id] = None

    @applies
    def _consent_revoked(self, event: events.ConsentRevoked) -> None:
        self.consents[event.consent_id] = event.revoked_at

    @applies
    def _enrolled(self, event: events.ParticipantEnrolled) -> None:
        self.status, self.engagement = CaseStatus.ENROLLED, "active"

    @applies
    def _declined(self, event: events.ParticipantDeclined) -> None:
        self.status = CaseStatus.DECLINED

    @applies
    def _engagement_changed(self, event: events.EngagementChanged) -> None:
        self.engagement = event.engagement

    @applies
    def _closed(self, event: events.CaseClosed) -> None:
        self.status_before_closing, self.status = self.status, CaseStatus.CLOSED

    @applies
    def _reopened(self, event: events.CaseReopened) -> None:
        self.status, self.engagement = event.status, event.engagement
