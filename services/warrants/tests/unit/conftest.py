"""Warrants' handlers on in-memory storage: a fake unit of work with the real repositories' contract."""

from uuid import UUID

import pytest

from divert_platform.fakes import FakeUnitOfWork, InMemoryRepository
from divert_warrants.domain.referral_facts import ReferralFacts
from divert_warrants.domain.warrant_request import WarrantRequest
from divert_warrants.service_layer.integration import to_integration_event
from divert_warrants.service_layer.unit_of_work import WarrantsUnitOfWork


class InMemoryWarrantRequests(InMemoryRepository[WarrantRequest]):
    """Warrant requests in a dict, also found by referral."""

    async def get_for_referral(self, referral_id: UUID) -> WarrantRequest | None:
        for request_id in self.streams:
            request = await self.get(request_id)
            if request is not None and request.referral_id == referral_id:
                return request
        return None


class InMemoryReferralFacts:
    """Referral facts in a dict (one writer at a time in a unit test: `lock` locks nothing)."""

    def __init__(self) -> None:
        self.facts: dict[UUID, ReferralFacts] = {}

    async def lock(self, referral_id: UUID) -> ReferralFacts:
        stored = self.facts.get(referral_id, ReferralFacts(referral_id))
        return ReferralFacts(**vars(stored))  # a copy: only `save` changes what is stored

    async def save(self, facts: ReferralFacts) -> None:
        self.facts[facts.referral_id] = facts


class FakeWarrantsUnitOfWork(FakeUnitOfWork, WarrantsUnitOfWork):
    """Warrants' unit of work in memory, publishing through the real mapper."""

    def __init__(self) -> None:
        super().__init__(to_integration_event)
        self.warrant_requests = InMemoryWarrantRequests(WarrantRequest, self)
        self.referral_facts = InMemoryReferralFacts()


@pytest.fixture
def uow() -> FakeWarrantsUnitOfWork:
    """A fresh in-memory unit of work."""
    return FakeWarrantsUnitOfWork()
