"""What assessment's handlers need of storage, as protocols: SQL adapters in production, in-memory
fakes in unit tests."""

from typing import Protocol

from divert_assessment.domain.case import Case
from divert_assessment.domain.rules import EarlierCase
from divert_platform.repository import Repository


class Cases(Repository[Case], Protocol):
    """Cases by referral id, and the earlier cases of a person the RMS agency knows."""

    async def earlier_cases(self, rms_agency: str, rms_person_id: str) -> list[EarlierCase]:
        """The cases of the person the RMS agency knows by `rms_person_id`, open or closed."""
        ...
