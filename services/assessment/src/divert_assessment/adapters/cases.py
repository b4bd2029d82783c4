"""The case repository: event store for truth, `cases` as the case-agency view."""

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update

from divert_assessment.adapters.tables import cases
from divert_assessment.domain import events
from divert_assessment.domain.case import Case, CaseStatus
from divert_platform.clock import as_utc, utcnow
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork

_TIMES = ("referred_at", "assessment_due_by", "opened_at", "completed_at", "updated_at")


def stream_id(referral_id: UUID) -> str:
    """The event stream of one referral's case."""
    return f"case-{referral_id}"


class CaseRepository:
    """Loads cases from and saves them to the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def get(self, referral_id: UUID) -> Case | None:
        """The case rebuilt from its events, or None."""
        stored = await self._uow.events.read(stream_id(referral_id))
        if not stored:
            return None
        history = [events.EVENT_TYPES[e.event_type].model_validate(e.data) for e in stored]
        return Case.from_events(referral_id, history)

    async def save(self, case: Case, metadata: dict[str, Any]) -> list[events.DomainEvent]:
        """Append the case's pending events and project them; returns what was appended.

        Raises `ConcurrencyConflict` when another writer changed the case since it was loaded.
        """
        pending, case.pending = case.pending, []
        await self._uow.events.append(
            stream_id(case.id),
            case.version,
            [NewEvent(e.name, e.model_dump(mode="json")) for e in pending],
            metadata,
        )
        case.version += len(pending)
        for event in pending:
            await self._project(event)
        return pending

    async def _project(self, event: events.DomainEvent) -> None:
        session, key, now = self._uow.session, str(event.referral_id), utcnow()
        match event:
            case events.CaseOpened():
                await session.execute(
                    insert(cases).values(
                        referral_id=key,
                        status=CaseStatus.PENDING_ASSESSMENT.value,
                        jurisdiction=event.jurisdiction,
                        pathway=event.pathway,
                        rms_agency=event.rms_agency,
                        referred_at=as_utc(event.referred_at),
                        assessment_due_by=as_utc(event.assessment_due_by) if event.assessment_due_by else None,
                        opened_at=as_utc(event.opened_at),
                        given_name=event.subject.given_name,
                        family_name=event.subject.family_name,
                        date_of_birth=event.subject.date_of_birth,
                        phone=event.subject.phone,
                        rms_person_id=event.subject.rms_person_id,
                        updated_at=now,
                    )
                )
            case events.AssessmentCompleted():
                await session.execute(
                    update(cases)
                    .where(cases.c.referral_id == key)
                    .values(
                        status=CaseStatus.ASSESSED.value,
                        completed_at=as_utc(event.completed_at),
                        case_manager_id=event.case_manager_id,
                        on_time=event.on_time,
                        needs=[need.model_dump(mode="json") for need in event.needs],
                        updated_at=now,
                    )
                )


async def find_case(uow: UnitOfWork, referral_id: UUID) -> dict[str, Any] | None:
    """The case-agency view of one case as a row mapping (times in UTC), or None."""
    row = (await uow.session.execute(select(cases).where(cases.c.referral_id == str(referral_id)))).first()
    if row is None:
        return None
    view = dict(row._mapping)
    for column in _TIMES:
        if view[column] is not None:
            view[column] = as_utc(view[column])  # SQLite hands back naive values
    return view
