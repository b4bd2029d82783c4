"""A service's capacity: marked full, or with room again, by the people who refer to it.

A mark is directory data about a service, not about a person, but who marked a service full and
when is worth keeping, so capacity is event-sourced: the stream `service-capacity-<service_id>`
is its history and the read model `service_capacity_flags` its current value, which matching
reads. A service never marked has room.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.events import ServiceCapacityMarked
from divert_platform.aggregate import Aggregate, applies


def may_mark_capacity(
    offer: ServiceOffer, *, role: str, agency: str | None, jurisdiction: str | None, case_agencies: Mapping[str, str]
) -> bool:
    """A program manager may mark services of its jurisdiction; a case manager those serving a
    jurisdiction its agency serves (`case_agencies`: jurisdiction → case agency)."""
    if role == "program_manager":
        return jurisdiction is not None and jurisdiction in offer.jurisdictions
    return agency is not None and any(case_agencies.get(j) == agency for j in offer.jurisdictions)


@dataclass
class ServiceCapacity(Aggregate[ServiceCapacityMarked]):
    """One service's capacity (its id is the HSDS service id)."""

    stream_prefix = "service-capacity"

    at_capacity: bool = False

    def mark(self, at_capacity: bool, now: datetime, *, service_referral_id: UUID | None = None) -> bool:
        """Mark the service full or with room; False (and nothing recorded) when it already is.

        `service_referral_id` names the declined referral that marked it full, if that is how."""
        if at_capacity == self.at_capacity:
            return False
        self._record(
            ServiceCapacityMarked(
                service_id=self.id, at_capacity=at_capacity, marked_at=now, service_referral_id=service_referral_id
            )
        )
        return True

    @applies
    def _marked(self, event: ServiceCapacityMarked) -> None:
        self.at_capacity = event.at_capacity
