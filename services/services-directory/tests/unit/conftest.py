"""The directory's handlers on in-memory storage: a fake unit of work with the real stores' contract."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.case_facts import CaseFacts, ConsentFact
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.service_referral import ServiceReferral
from divert_directory.service_layer.integration import to_integration_event
from divert_directory.service_layer.ports import Written
from divert_directory.service_layer.unit_of_work import DirectoryUnitOfWork
from divert_platform.fakes import FakeUnitOfWork, InMemoryRepository


class InMemoryCaseFacts:
    """Case facts in a dict (one writer at a time in a unit test: `lock` locks nothing)."""

    def __init__(self) -> None:
        self.facts: dict[UUID, CaseFacts] = {}

    async def lock(self, referral_id: UUID, *, jurisdiction: str, agency: str | None) -> CaseFacts:
        stored = self.facts.setdefault(referral_id, CaseFacts(referral_id, jurisdiction, agency))
        return replace(stored)  # a copy: only `save` changes what is stored

    async def save(self, facts: CaseFacts) -> None:
        self.facts[facts.referral_id] = replace(facts)

    async def find(self, referral_id: UUID, *, agency: str | None) -> CaseFacts | None:
        facts = self.facts.get(referral_id)
        return replace(facts) if facts is not None and agency is not None and facts.agency == agency else None


class InMemoryConsents:
    """Consents in a dict, by consent id."""

    def __init__(self) -> None:
        self.consents: dict[UUID, ConsentFact] = {}

    async def lock(self, consent_id: UUID, referral_id: UUID) -> ConsentFact:
        return self.consents.setdefault(consent_id, ConsentFact(consent_id, referral_id))

    async def save(self, consent: ConsentFact) -> None:
        self.consents[consent.consent_id] = consent

    async def of_case(self, referral_id: UUID) -> list[ConsentFact]:
        return [consent for consent in self.consents.values() if consent.referral_id == referral_id]


class InMemoryCatalogue:
    """Service offers in a dict; upserted HSDS records in another, by type and id."""

    def __init__(self) -> None:
        self.offers: dict[UUID, ServiceOffer] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, offer: ServiceOffer) -> ServiceOffer:
        self.offers[offer.service_id] = offer
        return offer

    async def offer(self, service_id: UUID) -> ServiceOffer | None:
        return self.offers.get(service_id)

    async def offers_in(self, jurisdiction: str) -> list[ServiceOffer]:
        serving = [o for o in self.offers.values() if o.status == "active" and jurisdiction in o.jurisdictions]
        return sorted(serving, key=lambda offer: (offer.name, str(offer.service_id)))

    async def upsert(self, type_name: str, records: Iterable[dict[str, Any]], now: datetime) -> Written:
        table, written = self.records.setdefault(type_name, {}), Written()
        for record in records:
            old = table.get(record["id"])
            if old == record:
                written.unchanged += 1
            elif old is None:
                written.inserted += 1
            else:
                written.updated += 1
            table[record["id"]] = record
        return written


class FakeDirectoryUnitOfWork(FakeUnitOfWork, DirectoryUnitOfWork):
    """The directory's unit of work in memory, publishing through the real mapper."""

    def __init__(self) -> None:
        super().__init__(to_integration_event)
        self.service_referrals = InMemoryRepository(ServiceReferral, self)
        self.capacities = InMemoryRepository(ServiceCapacity, self)
        self.cases = InMemoryCaseFacts()
        self.consents = InMemoryConsents()
        self.catalogue = InMemoryCatalogue()


@pytest.fixture
def uow() -> FakeDirectoryUnitOfWork:
    """A fresh in-memory unit of work."""
    return FakeDirectoryUnitOfWork()
