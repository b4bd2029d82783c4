"""The service referral: one person sent to one service for one need, followed until it ends.

    sent → accepted → completed
                    → no_show
         → declined (no_capacity | not_eligible | other)

A closed loop: the case manager learns whether the provider took the person and whether the
service was delivered. `declined`, `completed` and `no_show` are final; a new attempt is a new
service referral. The aggregate is rebuilt from its own event stream (`service-referral-<id>`).
"""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from divert_contracts.cases import NeedDomain
from divert_contracts.directory import ServiceReferralDeclineReason, ServiceReferralStatus
from divert_directory.domain import events
from divert_directory.domain.case_facts import CaseFacts
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.commands import MakeServiceReferral
from divert_directory.domain.errors import CaseIsClosed, InvalidStatusChange, ReasonMisplaced, ServiceUnsuitable
from divert_platform.aggregate import Aggregate, applies

NEXT_STATUSES: dict[ServiceReferralStatus, tuple[ServiceReferralStatus, ...]] = {
    "sent": ("accepted", "declined"),
    "accepted": ("completed", "no_show"),
    "declined": (),
    "completed": (),
    "no_show": (),
}
"""Where each status may go next."""


def check_referable(offer: ServiceOffer, facts: CaseFacts, need: NeedDomain) -> None:
    """The service must be active, serve the case's jurisdiction and meet the need
    (`ServiceUnsuitable`), and the case must be open (`CaseIsClosed`)."""
    if offer.status != "active":
        raise ServiceUnsuitable("service_id", f"the service is {offer.status}, not taking referrals")
    if facts.jurisdiction not in offer.jurisdictions:
        raise ServiceUnsuitable(
            "service_id", f"the service does not serve the case's jurisdiction ({facts.jurisdiction})"
        )
    if need not in offer.taxonomy_term_codes:
        raise ServiceUnsuitable("need", f"the service does not meet the {need} need")
    if facts.closed:
        raise CaseIsClosed(facts.referral_id)


@dataclass(frozen=True)
class StatusChange:
    """One step of a service referral's history."""

    status: ServiceReferralStatus
    reason: ServiceReferralDeclineReason | None
    at: datetime


@dataclass
class ServiceReferral(Aggregate[events.ServiceReferralEvent]):
    """A service referral: takes commands, checks them against its status, records events."""

    stream_prefix = "service-referral"

    referral_id: UUID | None = None
    jurisdiction: str = ""
    service_id: UUID | None = None
    organization_id: UUID | None = None
    need: NeedDomain | None = None
    part2: bool = False
    consent_id: UUID | None = None
    status: ServiceReferralStatus | None = None
    history: list[StatusChange] = field(default_factory=list)

    def make(self, command: MakeServiceReferral) -> None:
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
                made_at=command.at,
            )
        )

    def change_status(
        self, status: ServiceReferralStatus, reason: ServiceReferralDeclineReason | None, now: datetime
    ) -> None:
        """Move to `status` if the current status leads there; a decline, and only a decline, says why."""
        allowed = NEXT_STATUSES[self.status] if self.status else ()
        if self.status is None or self.referral_id is None or status not in allowed:
            raise InvalidStatusChange(self.status, status, allowed)
        if status == "declined" and reason is None:
            raise ReasonMisplaced("a decline needs a reason: no_capacity, not_eligible or other")
        if status != "declined" and reason is not None:
            raise ReasonMisplaced(f"only a decline has a reason, not {status}")
        self._record(
            events.ServiceReferralStatusChanged(
                service_referral_id=self.id,
                referral_id=self.referral_id,
                previous_status=self.status,
                status=status,
                reason=reason,
                changed_at=now,
            )
        )

    @applies
    def _made(self, event: events.ServiceReferralMade) -> None:
        self.referral_id, self.jurisdiction = event.referral_id, event.jurisdiction
        self.service_id, self.organization_id = event.service_id, event.organization_id
        self.need, self.part2, self.consent_id = event.need, event.part2, event.consent_id
        self.status = "sent"
        self.history.append(StatusChange("sent", None, event.made_at))

    @applies
    def _status_changed(self, event: events.ServiceReferralStatusChanged) -> None:
        self.status = event.status
        self.history.append(StatusChange(event.status, event.reason, event.changed_at))
