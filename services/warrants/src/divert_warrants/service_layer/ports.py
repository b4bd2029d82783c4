"""What warrants' handlers need of storage, as protocols: SQL adapters in production, in-memory
fakes in unit tests."""

from typing import Protocol
from uuid import UUID

from divert_platform.repository import Repository
from divert_warrants.domain.referral_facts import ReferralFacts
from divert_warrants.domain.warrant_request import WarrantRequest


class DuplicateWarrantRequest(Exception):
    """Another transaction recorded a request for the same referral first."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"referral {referral_id} already has a warrant request")
        self.referral_id = referral_id


class WarrantRequests(Repository[WarrantRequest], Protocol):
    """Warrant requests, also found by their referral (one each at most)."""

    async def get_for_referral(self, referral_id: UUID) -> WarrantRequest | None:
        """The referral's request, or None."""
        ...


class ReferralFactsStore(Protocol):
    """Warrants' own record of each referral: its standing, due time in force, lapse, assessment
    and withdrawal, as far as warrants has heard of them."""

    async def lock(self, referral_id: UUID) -> ReferralFacts:
        """The referral's facts (empty if none yet), locked until the unit of work ends.

        Every writer locks first, so a lapse and a late assessment or withdrawal are ordered: one
        sees what the other committed, and no request is left standing that a fact makes wrongful.
        """
        ...

    async def save(self, facts: ReferralFacts) -> None:
        """Store facts locked with `lock()`."""
        ...
