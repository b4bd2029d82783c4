"""Intake's unit of work: referrals (events, police status view, RMS-case claims) in one transaction,
and the jurisdictions' policies they are judged by."""

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_intake.adapters.referrals import SqlReferrals
from divert_intake.domain.policy import PolicyBook
from divert_intake.domain.referral import Referral
from divert_platform.repository import Repository
from divert_platform.unit_of_work import SqlUnitOfWork, ToIntegrationEvent, UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    """What intake's handlers work in."""

    referrals: Repository[Referral]
    policies: PolicyBook
    """The jurisdictions' versioned policies (read-only data, loaded once per process)."""


class SqlIntakeUnitOfWork(SqlUnitOfWork, IntakeUnitOfWork):
    """Intake's unit of work on its database."""

    referrals: SqlReferrals

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        source: str,
        policies: PolicyBook,
        on_commit: Callable[[Sequence[IntegrationEvent]], None] | None = None,
        to_integration_event: ToIntegrationEvent | None = None,
    ) -> None:
        super().__init__(session_factory, source, on_commit=on_commit, to_integration_event=to_integration_event)
        self.policies = policies

    def _open_repositories(self) -> None:
        self.referrals = SqlReferrals(self)
