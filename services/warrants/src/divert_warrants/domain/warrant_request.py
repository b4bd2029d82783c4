"""The warrant-request aggregate: one referral's request, rebuilt from its events."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_contracts.referrals import LapseAction
from divert_warrants.domain import events


class WarrantRequestStatus(StrEnum):
    """Where a warrant request stands (rescinded and acknowledged come with later issues)."""

    REQUESTED = "requested"


class InvalidWarrantRequest(ValueError):
    """A command that contradicts its own data, e.g. a lapse before the due time."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RequestWarrant:
    """Command: the deadline workflow saw the assessment window close without an assessment."""

    warrant_request_id: UUID
    referral_id: UUID
    jurisdiction: str
    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime


@dataclass
class WarrantRequest:
    """A warrant request and the events that changed it but are not stored yet (`pending`)."""

    id: UUID
    version: int = 0
    status: WarrantRequestStatus | None = None
    referral_id: UUID | None = None
    jurisdiction: str = ""
    kind: LapseAction | None = None
    assessment_due_by: datetime | None = None
    lapsed_at: datetime | None = None
    requested_at: datetime | None = None
    pending: list[events.DomainEvent] = field(default_factory=list)

    @classmethod
    def request(cls, command: RequestWarrant, now: datetime) -> "WarrantRequest":
        """Record the request; a window cannot lapse before it was due (no wrongful warrant)."""
        if command.lapsed_at < command.assessment_due_by:
            raise InvalidWarrantRequest("lapsed_at", "lapsed_at is before assessment_due_by: the window was still open")
        request = cls(id=command.warrant_request_id)
        request._record(
            events.WarrantRequested(
                warrant_request_id=command.warrant_request_id,
                referral_id=command.referral_id,
                jurisdiction=command.jurisdiction,
                kind=command.kind,
                assessment_due_by=command.assessment_due_by,
                lapsed_at=command.lapsed_at,
                requested_at=now,
            )
        )
        return request

    @classmethod
    def from_events(cls, warrant_request_id: UUID, history: list[events.DomainEvent]) -> "WarrantRequest":
        """Rebuild the request from its stored events."""
        request = cls(id=warrant_request_id)
        for event in history:
            request._apply(event)
            request.version += 1
        return request

    def _record(self, event: events.DomainEvent) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: events.DomainEvent) -> None:
        match event:
            case events.WarrantRequested():
                self.status = WarrantRequestStatus.REQUESTED
                self.referral_id, self.jurisdiction, self.kind = event.referral_id, event.jurisdiction, event.kind
                self.assessment_due_by, self.lapsed_at = event.assessment_due_by, event.lapsed_at
                self.requested_at = event.requested_at
