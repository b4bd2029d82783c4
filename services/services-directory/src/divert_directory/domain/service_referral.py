"""The service referral: one person sent to one service for one need, followed until it ends.

    sent → accepted → completed
                    → no_show
         → declined (no_capacity | not_eligible | other)

A closed loop: the case manager learns whether the provider took the person and whether the
service was delivered. `declined`, `completed` and `no_show` are final; a new attempt is a new
service referral. The aggregate is rebuilt from its own event stream.
"""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_directory.domain import events
from divert_directory.domain.commands import ChangeServiceReferralStatus, MakeServiceReferral
from divert_directory.domain.errors import InvalidStatusChange, ReasonMisplaced

NEXT_STATUSES: dict[ServiceReferralStatus, tuple[ServiceReferralStatus, ...]] = {
    "sent": ("accepted", "declined"),
    "accepted": ("completed", "no_show"),
    "declined": (),
    "completed": (),
    "no_show": (),
}
"""Where each status may go next."""


@dataclass(frozen=True)
class StatusChange:
    """One step of a service referral's history."""

    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    at: datetime


@dataclass
class ServiceReferral:
    """A service referral: takes commands, checks them against its status, records events."""

    id: UUID
    version: int = 0
    referral_id: UUID | None = None
    jurisdiction: str = ""
    service_id: UUID | None = None
    organization_id: UUID | None = None
    need: NeedDomain | None = None
    part2: bool = False
    consent_id: UUID | None = None
    status: ServiceReferralStatus | None = None
    history: list[StatusChange] = field(default_factory=list)
    pending: list[events.DomainEvent] = field(default_factory=list)

    @classmethod
    def from_events(cls, service_referral_id: UUID, history: list[events.DomainEvent]) -> "ServiceReferral":
        """Rebuild the service referral from its stored events."""
        referral = cls(id=service_referral_id)
        for event in history:
            referral._apply(event)
            referral.version += 1
        return referral

    def make(self, command: MakeServiceReferral, now: datetime) -> None:
        """Send the referral; a referral is made once."""
        if self.status is not None:
            raise InvalidStatusChange(self.status, "sent", NEXT_STATUSES[self.status])
        self._record(
            events.ServiceReferralMade(
                service_referral_id=self.id,
                referral_id=command.referral_id,
                jurisdiction=command.jurisdiction,
                service_id=command.service_id,
                organization_id=command.organization_id,
                need=command.need,
                part2=command.part2,
                consent_id=command.consent_id,
                made_at=now,
            )
        )

    def change_status(self, command: ChangeServiceReferralStatus, now: datetime) -> None:
        """Move to `command.status` if the current status leads there; a decline must say why."""
        allowed = NEXT_STATUSES[self.status] if self.status else ()
        if self.status is None or command.status not in allowed:
            raise InvalidStatusChange(self.status, command.status, allowed)
        if command.status == "declined" and command.reason is None:
            raise ReasonMisplaced("a decline needs a reason: no_capacity, not_eligible or other")
        if command.status != "declined" and command.reason is not None:
            raise ReasonMisplaced(f"only a decline has a reason, not {command.status}")
        assert self.referral_id is not None  # set by ServiceReferralMade, which every status follows
        self._record(
            events.ServiceReferralStatusChanged(
                service_referral_id=self.id,
                referral_id=self.referral_id,
                previous_status=self.status,
                status=command.status,
                reason=command.reason,
                changed_at=now,
            )
        )

    def _record(self, event: events.DomainEvent) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: events.DomainEvent) -> None:
        match event:
            case events.ServiceReferralMade():
                self.referral_id, self.jurisdiction = event.referral_id, event.jurisdiction
                self.service_id, self.organization_id = event.service_id, event.organization_id
                self.need, self.part2, self.consent_id = event.need, event.part2, event.consent_id
                self.status = "sent"
                self.history.append(StatusChange("sent", None, event.made_at))
            case events.ServiceReferralStatusChanged():
                self.status = event.status
                self.history.append(StatusChange(event.status, event.reason, event.changed_at))
