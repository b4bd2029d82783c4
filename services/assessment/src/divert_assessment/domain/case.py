"""The case aggregate: one referral's case at the agency, rebuilt from its events."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_assessment.domain import events, rules
from divert_contracts.cases import NeedDomain
from divert_contracts.referrals import Pathway, Subject


class CaseStatus(StrEnum):
    """Where a case stands in its lifecycle (DOMAIN.md §6); later stages come with enrollment."""

    PENDING_ASSESSMENT = "pending_assessment"
    ASSESSED = "assessed"


class InvalidAssessment(ValueError):
    """An assessment that breaks one or more rules; `violations` names the fields at fault."""

    def __init__(self, violations: list[rules.Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class CaseNotPending(Exception):
    """The command needs a case pending assessment; `current_state` says where it is instead."""

    def __init__(self, current_state: CaseStatus | None) -> None:
        super().__init__(f"the case is {current_state or 'not open'}, not pending assessment")
        self.current_state = current_state


@dataclass(frozen=True)
class OpenCase:
    """Command: open the case of an accepted referral."""

    referral_id: UUID
    jurisdiction: str
    pathway: Pathway
    referred_at: datetime
    assessment_due_by: datetime | None
    subject: Subject
    rms_agency: str


@dataclass(frozen=True)
class NeedFound:
    """A need as the case manager reports it: a category and a priority (1 = most urgent)."""

    domain: NeedDomain
    priority: int


@dataclass(frozen=True)
class CompleteAssessment:
    """Command: a case manager records the completed intake assessment."""

    referral_id: UUID
    completed_at: datetime
    case_manager_id: str
    needs: tuple[NeedFound, ...]


@dataclass
class Case:
    """A case and the events that changed it but are not stored yet (`pending`)."""

    id: UUID
    version: int = 0
    status: CaseStatus | None = None
    jurisdiction: str = ""
    referred_at: datetime | None = None
    assessment_due_by: datetime | None = None
    pending: list[events.DomainEvent] = field(default_factory=list)

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
            )
        )

    def complete_assessment(self, command: CompleteAssessment, now: datetime) -> None:
        """Record the assessment, judged on time against the due time; only once per case."""
        if self.status != CaseStatus.PENDING_ASSESSMENT or self.referred_at is None:
            raise CaseNotPending(self.status)
        violations = [
            violation
            for violation in (
                rules.completed_at_is_not_in_the_future(command.completed_at, now),
                rules.completed_at_is_not_before_the_referral(command.completed_at, self.referred_at),
                rules.each_need_domain_appears_once(need.domain for need in command.needs),
                rules.each_priority_is_from_one_to_ten(need.priority for need in command.needs),
            )
            if violation is not None
        ]
        if violations:
            raise InvalidAssessment(violations)
        self._record(
            events.AssessmentCompleted(
                referral_id=self.id,
                jurisdiction=self.jurisdiction,
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

    def _record(self, event: events.DomainEvent) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: events.DomainEvent) -> None:
        match event:
            case events.CaseOpened():
                self.status = CaseStatus.PENDING_ASSESSMENT
                self.jurisdiction = event.jurisdiction
                self.referred_at, self.assessment_due_by = event.referred_at, event.assessment_due_by
            case events.AssessmentCompleted():
                self.status = CaseStatus.ASSESSED
