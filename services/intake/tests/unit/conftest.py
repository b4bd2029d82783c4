"""Intake's handlers on in-memory storage: a fake unit of work with the real repository's contract."""

from datetime import datetime
from uuid import UUID

import pytest

from divert_intake.deadline.models import DeadlineInput
from divert_intake.domain.events import HeldContact
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.referral import Referral
from divert_intake.service_layer.integration import to_integration_event
from divert_intake.service_layer.unit_of_work import IntakeUnitOfWork
from divert_platform.fakes import FakeUnitOfWork, InMemoryRepository


class InMemoryHeldContacts:
    """Held contact details in a dict (`HeldContacts`)."""

    def __init__(self) -> None:
        self.rows: dict[UUID, HeldContact] = {}

    async def hold(self, referral_id: UUID, held: HeldContact) -> None:
        assert referral_id not in self.rows, "a referral starts waiting once"
        self.rows[referral_id] = held

    async def get(self, referral_id: UUID) -> HeldContact | None:
        return self.rows.get(referral_id)

    async def release(self, referral_id: UUID) -> None:
        self.rows.pop(referral_id, None)


class FakeIntakeUnitOfWork(FakeUnitOfWork, IntakeUnitOfWork):
    """Intake's unit of work in memory, publishing through the real mapper."""

    def __init__(self) -> None:
        super().__init__(to_integration_event)
        self.referrals = InMemoryRepository(Referral, self)
        self.held_contacts = InMemoryHeldContacts()
        self.policies = load_policy_book()


class RecordingClock:
    """A deadline clock that records each call: `(what, deadline, when)`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, DeadlineInput, datetime | None]] = []

    async def start(self, deadline: DeadlineInput) -> None:
        self.calls.append(("start", deadline, None))

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        self.calls.append(("assessed", deadline, completed_at))

    async def withdraw(self, deadline: DeadlineInput, withdrawn_at: datetime) -> None:
        self.calls.append(("withdrawn", deadline, withdrawn_at))

    async def extend(self, deadline: DeadlineInput, assessment_due_by: datetime) -> None:
        self.calls.append(("extended", deadline, assessment_due_by))


@pytest.fixture
def uow() -> FakeIntakeUnitOfWork:
    """A fresh in-memory unit of work."""
    return FakeIntakeUnitOfWork()


@pytest.fixture
def clock() -> RecordingClock:
    """A deadline clock that only records what it was told."""
    return RecordingClock()
