"""The case repository: event store for truth, `cases` and `consents` as the case-agency view."""

from typing import Any
from uuid import UUID

from sqlalchemy import select

from divert_assessment.adapters.projections import project
from divert_assessment.adapters.tables import cases, consents, person_cases
from divert_assessment.domain import events
from divert_assessment.domain.case import Case
from divert_assessment.domain.rules import EarlierCase
from divert_platform.clock import as_utc, utcnow
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork

CASE_TIMES = (
    "referred_at",
    "assessment_due_by",
    "opened_at",
    "completed_at",
    "first_contact_at",
    "enrolled_at",
    "closed_at",
    "updated_at",
)
CONSENT_TIMES = ("recorded_at", "expires_at", "revoked_at")


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
        now = utcnow()
        for event in pending:
            await project(self._uow, event, recorded_at=now)
        return pending

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
                opened_at=as_utc(row.opened_at),
                closed=row.closed,
            )
            for row in rows
        ]


async def find_case(uow: UnitOfWork, referral_id: UUID, *, agency: str | None) -> dict[str, Any] | None:
    """The case-agency view of one case as a row mapping (times in UTC), or None when there is no
    such case or another agency owns it. A case without an owning agency is no agency's."""
    if agency is None:
        return None
    query = select(cases).where(cases.c.referral_id == str(referral_id), cases.c.agency == agency)
    row = (await uow.session.execute(query)).first()
    return in_utc(dict(row._mapping), CASE_TIMES) if row else None


async def jurisdiction_of(uow: UnitOfWork, referral_id: str) -> str | None:
    """The jurisdiction of the case opened for `referral_id`, whichever agency owns it, or None."""
    query = select(cases.c.jurisdiction).where(cases.c.referral_id == referral_id)
    return (await uow.session.execute(query)).scalar_one_or_none()


async def find_consents(uow: UnitOfWork, referral_id: UUID) -> list[dict[str, Any]]:
    """Every consent recorded on a case, oldest first, as row mappings (times in UTC)."""
    rows = await uow.session.execute(
        select(consents)
        .where(consents.c.referral_id == str(referral_id))
        .order_by(consents.c.recorded_at, consents.c.consent_id)
    )
    return [in_utc(dict(row._mapping), CONSENT_TIMES) for row in rows]


def in_utc(view: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """`view` with its time `columns` in UTC."""
    for column in columns:
        if view[column] is not None:
            view[column] = as_utc(view[column])  # SQLite hands back naive values
    return view
