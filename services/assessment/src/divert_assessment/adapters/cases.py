"""The case repository: the event store for truth, `cases`, `consents` and `person_cases` kept in
step as the case-agency view (`projections.py`), and the person's earlier cases for re-referrals."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select

from divert_assessment.adapters.projections import project
from divert_assessment.adapters.tables import person_cases
from divert_assessment.domain.case import Case
from divert_assessment.domain.rules import EarlierCase
from divert_platform.aggregate import DomainEvent
from divert_platform.clock import utcnow
from divert_platform.repository import EventSourcedRepository


class SqlCases(EventSourcedRepository[Case]):
    """Cases in assessment's database."""

    aggregate = Case

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Keep the read models in step with the case's events."""
        await project(self._uow.session, event, recorded_at=utcnow())

    async def earlier_cases(self, rms_agency: str, rms_person_id: str) -> list[EarlierCase]:
        """The cases of the person the RMS agency knows by `rms_person_id`."""
        rows = await self._uow.session.execute(
            select(person_cases).where(
                person_cases.c.rms_agency == rms_agency, person_cases.c.rms_person_id == rms_person_id
            )
        )
        return [
            EarlierCase(
                referral_id=UUID(row.referral_id),
                rms_agency=row.rms_agency,
                rms_person_id=row.rms_person_id,
                opened_at=row.opened_at,
                closed=row.closed,
            )
            for row in rows
        ]
