"""Warrants' unit of work: warrant requests and referral facts in one transaction."""

from divert_platform.unit_of_work import SqlUnitOfWork, UnitOfWork
from divert_warrants.adapters.referral_facts import SqlReferralFacts
from divert_warrants.adapters.warrant_requests import SqlWarrantRequests
from divert_warrants.service_layer.ports import ReferralFactsStore, WarrantRequests


class WarrantsUnitOfWork(UnitOfWork):
    """What warrants' handlers work in."""

    warrant_requests: WarrantRequests
    referral_facts: ReferralFactsStore


class SqlWarrantsUnitOfWork(SqlUnitOfWork, WarrantsUnitOfWork):
    """Warrants' unit of work on its database."""

    warrant_requests: SqlWarrantRequests

    def _open_repositories(self) -> None:
        self.warrant_requests = SqlWarrantRequests(self)
        self.referral_facts = SqlReferralFacts(self.session)
