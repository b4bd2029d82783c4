"""What warrants keeps of each referral from other services' events: its own record, never content.

Warrants decides every request from this record, not from what its caller says. From intake's
events on `divert.referrals` it keeps the referral's jurisdiction, pathway and lapse action
(`referral.accepted`), the police's own facts the prosecutor needs to act on a lapse (`PoliceFacts`:
the RMS agency, case number and officer, the offense category and statute, the referral time and the
policy version that set the window), the due time in force (accepted, moved later only by
`referral.deadline_extended`), the lapse intake recorded (`referral.assessment_deadline_lapsed`)
and the withdrawal; from `divert.case-milestones` the assessment's completion time. Never who the
person is, never case content (needs, contacts, consent), never a withdrawal's or extension's
free-text reason: only standing, instants and the ids of the events that told us (the audit trail).

A warrant request is due only when the record shows an accepted arrest diversion whose lapse
intake recorded at or after the due time in force (`recorded_lapse`); it is wrongful when the
assessment was completed at or before that due time, and moot once the referral is withdrawn
(`reason_to_rescind`). Events arrive in any order across topics, so every fact is kept as it
comes and judged when asked.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from divert_contracts.referrals import LapseAction, Pathway
from divert_contracts.warrants import RescissionReason
from divert_warrants.domain.commands import RequestWarrant
from divert_warrants.domain.warrant_request import InvalidWarrantRequest


class LapseNotRecorded(Exception):
    """Warrants has not heard yet of the referral's acceptance or of its lapse: ask again later.

    Intake records the lapse before it asks for the warrant, but its event reaches warrants
    through Kafka: a request can overtake it. `missing` says which (`referral` or `lapse`).
    """

    def __init__(self, referral_id: UUID, missing: Literal["referral", "lapse"]) -> None:
        heard = "the referral's acceptance" if missing == "referral" else "the referral's lapse"
        super().__init__(f"warrants has not yet heard of {heard} ({referral_id}); retry later")
        self.missing = missing


class LapseSuperseded(Exception):
    """Intake's recorded lapse is before the due time in force (an extension moved it past the
    lapse): the window is not closed, so no request may stand on that lapse."""

    def __init__(self, lapsed_at: datetime, due_by: datetime) -> None:
        super().__init__(
            f"the recorded lapse ({lapsed_at.isoformat()}) is before the due time in force ({due_by.isoformat()})"
        )


@dataclass(frozen=True)
class RecordedLapse:
    """A lapse as warrants' own record has it: what a request is made of."""

    jurisdiction: str
    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime


@dataclass(frozen=True)
class PoliceFacts:
    """What the police already own about a referral, as intake published it on acceptance: what a
    prosecutor needs to find the police case. Never the subject's name or date of birth."""

    rms_agency: str
    rms_case_number: str
    officer_id: str
    offense_category: str | None
    offense_statute: str | None
    referred_at: datetime
    policy_version: str


@dataclass
class ReferralFacts:
    """One referral as far as warrants has heard of it (every field None until told)."""

    referral_id: UUID
    jurisdiction: str | None = None
    pathway: Pathway | None = None
    lapse_action: LapseAction | None = None
    accepted_event_id: str | None = None
    assessment_due_by: datetime | None = None
    """The due time in force: the latest one heard of (an extension only ever moves it later)."""
    due_event_id: str | None = None
    lapsed_at: datetime | None = None
    due_at_lapse: datetime | None = None
    lapse_event_id: str | None = None
    assessment_completed_at: datetime | None = None
    assessment_event_id: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_event_id: str | None = None
    rms_agency: str | None = None
    rms_case_number: str | None = None
    officer_id: str | None = None
    offense_category: str | None = None
    offense_statute: str | None = None
    referred_at: datetime | None = None
    policy_version: str | None = None
    accepted_due_by: datetime | None = None
    """The due time the policy set at acceptance, before any extension."""

    def note_acceptance(
        self,
        jurisdiction: str,
        pathway: Pathway,
        due_by: datetime | None,
        lapse_action: LapseAction | None,
        event_id: str | None,
        police: PoliceFacts | None = None,
    ) -> None:
        """Remember the accepted referral's standing and police facts (the first acceptance told
        counts) and its due time."""
        if self.pathway is None:
            self.jurisdiction, self.pathway, self.lapse_action = jurisdiction, pathway, lapse_action
            self.accepted_event_id, self.accepted_due_by = event_id, due_by
            if police is not None:
                self.rms_agency, self.rms_case_number = police.rms_agency, police.rms_case_number
                self.officer_id, self.referred_at = police.officer_id, police.referred_at
                self.offense_category, self.offense_statute = police.offense_category, police.offense_statute
                self.policy_version = police.policy_version
        if due_by is not None:
            self._move_due(due_by, event_id)

    def note_extension(self, due_by: datetime, event_id: str | None) -> None:
        """Remember an extension: it moves the due time in force, later only."""
        self._move_due(due_by, event_id)

    def note_lapse(self, lapsed_at: datetime, due_by: datetime, event_id: str | None) -> None:
        """Remember the lapse intake recorded (once: the first one told counts).

        Its due time is intake's at the lapse; should it be later than ours (an extension we missed),
        the later one is in force: a later due time can only spare a warrant, never cause one.
        """
        if self.lapse_event_id is None and self.lapsed_at is None:
            self.lapsed_at, self.due_at_lapse, self.lapse_event_id = lapsed_at, due_by, event_id
        self._move_due(due_by, event_id)

    def note_assessment(self, completed_at: datetime, event_id: str | None) -> None:
        """Remember the assessment; if told twice, the earliest completion counts."""
        if self.assessment_completed_at is None or completed_at < self.assessment_completed_at:
            self.assessment_completed_at, self.assessment_event_id = completed_at, event_id

    def note_withdrawal(self, withdrawn_at: datetime, event_id: str | None) -> None:
        """Remember the withdrawal; the first one told counts."""
        if self.withdrawn_at is None:
            self.withdrawn_at, self.withdrawal_event_id = withdrawn_at, event_id

    def recorded_lapse(self, claim: RequestWarrant) -> RecordedLapse:
        """The lapse a request for `claim` must be made of, checked against this record.

        Raises `InvalidWarrantRequest` (a 422 naming the field) when the claim contradicts itself
        or the record, `LapseNotRecorded` (retryable) while the acceptance or the lapse has not
        reached warrants, and `LapseSuperseded` when the recorded lapse is before the due time in
        force. Whether the referral was withdrawn or assessed on time is `reason_to_rescind`'s.
        """
        if claim.lapsed_at < claim.assessment_due_by:
            raise InvalidWarrantRequest("lapsed_at", "lapsed_at is before assessment_due_by: the window was still open")
        if self.pathway is None or self.jurisdiction is None:
            raise LapseNotRecorded(self.referral_id, "referral")
        if self.pathway != "arrest_diversion" or self.lapse_action is None:
            raise InvalidWarrantRequest(
                "kind", f"referral {self.referral_id} is a {self.pathway} referral: it has no assessment deadline"
            )
        if claim.jurisdiction != self.jurisdiction:
            raise InvalidWarrantRequest("jurisdiction", f"referral {self.referral_id} is not of {claim.jurisdiction}")
        if claim.kind != self.lapse_action:
            raise InvalidWarrantRequest("kind", f"the jurisdiction's lapse action is {self.lapse_action}")
        if self.lapsed_at is None or self.assessment_due_by is None:
            raise LapseNotRecorded(self.referral_id, "lapse")
        if claim.assessment_due_by != self.assessment_due_by:
            raise InvalidWarrantRequest(
                "assessment_due_by", f"the due time in force is {self.assessment_due_by.isoformat()}"
            )
        if self.lapsed_at < self.assessment_due_by:
            raise LapseSuperseded(self.lapsed_at, self.assessment_due_by)
        return RecordedLapse(self.jurisdiction, self.lapse_action, self.assessment_due_by, self.lapsed_at)

    def assessed_by(self, due_by: datetime) -> bool:
        """True when the assessment was completed at or before `due_by` (a later one never counts)."""
        return self.assessment_completed_at is not None and self.assessment_completed_at <= due_by

    def reason_to_rescind(self, recorded_due: datetime | None = None) -> RescissionReason | None:
        """Why a request on this referral is wrongful or moot, or None when it stands.

        Judged against the due time in force in this record. `recorded_due` (the request's own)
        counts only for a request recorded before warrants kept due times, whose record has none.
        An on-time assessment is named first: it says the person did what was asked.
        """
        due_by = self.assessment_due_by or recorded_due
        if due_by is not None and self.assessed_by(due_by):
            return "assessed_before_deadline"
        if self.withdrawn_at is not None:
            return "referral_withdrawn"
        return None

    def cause_of(self, reason: RescissionReason) -> str | None:
        """The CloudEvents id of the event that established `reason`."""
        return self.assessment_event_id if reason == "assessed_before_deadline" else self.withdrawal_event_id

    def _move_due(self, due_by: datetime, event_id: str | None) -> None:
        if self.assessment_due_by is None or due_by > self.assessment_due_by:
            self.assessment_due_by, self.due_event_id = due_by, event_id
