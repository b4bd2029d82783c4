"""What a case knows: its state, evolved one stored event at a time (no rules, no decisions)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict
from uuid import UUID

from divert_assessment.domain import events
from divert_assessment.domain.status import CaseStatus
from divert_contracts.cases import Engagement


class About(TypedDict):
    """The fields every event after the opening repeats."""

    referral_id: UUID
    jurisdiction: str


@dataclass
class CaseState:
    """A case's state, and the events that changed it but are not stored yet (`pending`)."""

    id: UUID
    version: int = 0
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
    pending: list[events.DomainEvent] = field(default_factory=list)

    def about(self) -> About:
        """This case's id and jurisdiction, as every event carries them."""
        return {"referral_id": self.id, "jurisdiction": self.jurisdiction}

    def _record(self, event: events.DomainEvent) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: events.DomainEvent) -> None:
        match event:
            case events.CaseOpened():
                self.status, self.jurisdiction = CaseStatus.PENDING_ASSESSMENT, event.jurisdiction
                self.referred_at, self.opened_at = event.referred_at, event.opened_at
                self.assessment_due_by = event.assessment_due_by
            case events.AssessmentCompleted():
                self.status, self.assessed_at = CaseStatus.ASSESSED, event.completed_at
                # whoever assessed looks after the case until a manager is assigned
                self.case_manager_id = self.case_manager_id or event.case_manager_id
            case events.ManagerAssigned():
                self.case_manager_id = event.case_manager_id
            case events.ContactRecorded():
                self.contact_made = self.contact_made or event.outcome == "made"
            case events.ConsentRecorded():
                self.consents[event.consent_id] = None
            case events.ConsentRevoked():
                self.consents[event.consent_id] = event.revoked_at
            case events.ParticipantEnrolled():
                self.status, self.engagement = CaseStatus.ENROLLED, "active"
            case events.ParticipantDeclined():
                self.status = CaseStatus.DECLINED
            case events.EngagementChanged():
                self.engagement = event.engagement
            case events.CaseClosed():
                self.status_before_closing, self.status = self.status, CaseStatus.CLOSED
            case events.CaseReopened():
                self.status, self.engagement = event.status, event.engagement
