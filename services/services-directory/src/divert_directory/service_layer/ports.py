"""What the directory's handlers need of storage, as protocols: SQL adapters in production,
in-memory fakes in unit tests.

Service referrals and capacity marks are event-sourced (`Repository[A]` on the unit of work). The
case facts, the consents and the HSDS catalogue are not: they are state-based stores, whose rows
are updated in place.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from divert_directory.domain.case_facts import CaseFacts, ConsentFact
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.hsds_rows import Record


@dataclass
class Written:
    """What an upsert of one HSDS table did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class Catalogue(Protocol):
    """The HSDS catalogue (state-based: an import replaces records in place, keeping no history)."""

    async def offer(self, service_id: UUID) -> ServiceOffer | None:
        """The service with this id, whatever its status, or None."""
        ...

    async def offers_in(self, jurisdiction: str) -> list[ServiceOffer]:
        """Every `active` service serving `jurisdiction`, by name."""
        ...

    async def upsert(self, type_name: str, records: Iterable[Record], now: datetime) -> Written:
        """Insert new records of an HSDS type, replace changed ones, leave identical ones alone."""
        ...


class CaseFactsStore(Protocol):
    """What the directory heard of each case (state-based: one row per case, merged in place)."""

    async def lock(self, referral_id: UUID, *, jurisdiction: str, agency: str | None) -> CaseFacts:
        """The case's facts, created (with `jurisdiction` and `agency`) if absent, locked until the
        unit of work ends: two consumers applying events of one case take turns."""
        ...

    async def save(self, facts: CaseFacts) -> None:
        """Store facts locked with `lock()`."""
        ...

    async def find(self, referral_id: UUID, *, agency: str | None) -> CaseFacts | None:
        """The case's facts when `agency` owns the case; None when unknown or another agency's."""
        ...


class ConsentStore(Protocol):
    """The consents recorded on cases (state-based: one row per consent, merged in place)."""

    async def lock(self, consent_id: UUID, referral_id: UUID) -> ConsentFact:
        """The consent, created for `referral_id` if absent, locked until the unit of work ends. The
        consent's own case may differ from `referral_id`: the caller checks."""
        ...

    async def save(self, consent: ConsentFact) -> None:
        """Store a consent locked with `lock()`."""
        ...

    async def of_case(self, referral_id: UUID) -> list[ConsentFact]:
        """Every consent heard of for the case (recorded, or only revoked so far)."""
        ...
