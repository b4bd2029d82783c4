"""Assessment's handlers on in-memory storage: a fake unit of work with the real repository's contract."""

import pytest

from divert_assessment.domain.case import Case, CaseStatus
from divert_assessment.domain.events import CaseOpened
from divert_assessment.domain.rules import EarlierCase
from divert_assessment.service_layer.integration import to_integration_event
from divert_assessment.service_layer.unit_of_work import AssessmentUnitOfWork
from divert_platform.fakes import FakeUnitOfWork, InMemoryRepository


class InMemoryCases(InMemoryRepository[Case]):
    """Cases in a dict, also found by the RMS agency's person id (as `person_cases` finds them)."""

    async def earlier_cases(self, rms_agency: str, rms_person_id: str) -> list[EarlierCase]:
        found = []
        for referral_id, stream in self.streams.items():
            opened = stream[0]
            assert isinstance(opened, CaseOpened)
            if (opened.rms_agency, opened.subject.rms_person_id) == (rms_agency, rms_person_id):
                case = await self.get(referral_id)
                closed = case is not None and case.status is CaseStatus.CLOSED
                found.append(EarlierCase(referral_id, rms_agency, rms_person_id, opened.opened_at, closed))
        return found


class FakeAssessmentUnitOfWork(FakeUnitOfWork, AssessmentUnitOfWork):
    """Assessment's unit of work in memory, publishing through the real mapper."""

    def __init__(self) -> None:
        super().__init__(to_integration_event)
        self.cases = InMemoryCases(Case, self)


@pytest.fixture
def uow() -> FakeAssessmentUnitOfWork:
    """A fresh in-memory unit of work."""
    return FakeAssessmentUnitOfWork()
