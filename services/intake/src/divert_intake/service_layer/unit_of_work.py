"""Intake's unit of work: referrals (events, police status view, RMS-case claims) in one transaction."""

from divert_intake.adapters.referrals import SqlReferrals
from divert_intake.domain.referral import Referral
from divert_platform.repository import Repository
from divert_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    """What intake's handlers work in."""

    referrals: Repository[Referral]


class SqlIntakeUnitOfWork(SqlUnitOfWork, IntakeUnitOfWork):
    """Intake's unit of work on its database."""

    referrals: SqlReferrals

    def _open_repositories(self) -> None:
        self.referrals = SqlReferrals(self)
