"""Intake's unit of work: referrals (events, police status view, RMS-case claims) and the details
held for those waiting at an approval gate, in one transaction, and the jurisdictions' policies
they are judged by."""

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_intake.adapters.held_contacts import SqlHeldContacts
from divert_intake.adapters.referrals import SqlReferrals
from divert_intake.domain.policy import PolicyBook
from divert_intake.domain.referral import Referral
from divert_intake.service_layer.ports import HeldContacts
from divert_platform.repository import Repository
from divert_platform.unit_of_work import SqlUnitOfWork, ToIntegrationEvent, UnitOfWork


class IntakeUnitOfWork(UnitOfWork):
    """What intake's handlers work in."""

    referrals: Repository[Referral]
    held_contacts: HeldContacts
    """The person's details of referrals waiting at an approval gate (deleted at the decision)."""
    policies: PolicyBook
    """The jurisdictions' versioned policies (read-only data, loaded once per process)."""


class SqlIntakeUnitOfWork(SqlUnitOfWork, IntakeUnitOfWork):
    """Intake's unit of work on its database."""

    referrals: SqlReferrals
    held_contacts: SqlHeldContacts

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
        self.held_contacts = SqlHeldContacts(self)
