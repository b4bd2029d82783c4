"""The directory's unit of work: service referrals, capacity, case facts, consents and the
catalogue in one transaction."""

from divert_directory.adapters.capacity import SqlServiceCapacities
from divert_directory.adapters.case_facts import SqlCaseFacts, SqlConsents
from divert_directory.adapters.catalogue import SqlCatalogue
from divert_directory.adapters.service_referrals import SqlServiceReferrals
from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.service_referral import ServiceReferral
from divert_directory.service_layer.ports import CaseFactsStore, Catalogue, ConsentStore
from divert_platform.repository import Repository
from divert_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class DirectoryUnitOfWork(UnitOfWork):
    """What the directory's handlers work in."""

    service_referrals: Repository[ServiceReferral]
    capacities: Repository[ServiceCapacity]
    cases: CaseFactsStore
    consents: ConsentStore
    catalogue: Catalogue


class SqlDirectoryUnitOfWork(SqlUnitOfWork, DirectoryUnitOfWork):
    """The directory's unit of work on its database."""

    def _open_repositories(self) -> None:
        self.service_referrals = SqlServiceReferrals(self)
        self.capacities = SqlServiceCapacities(self)
        self.cases = SqlCaseFacts(self.session)
        self.consents = SqlConsents(self.session)
        self.catalogue = SqlCatalogue(self.session)
