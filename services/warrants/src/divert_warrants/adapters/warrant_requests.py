"""The warrant-request repository: event store for truth, `warrant_requests` as the read model.

Every stored event updates the read model in the same transaction; times are stored and read
back in UTC (SQLite drops offsets).
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from divert_platform.clock import as_utc, utcnow
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork
from divert_warrants.adapters.tables import warrant_requests
from divert_warrants.domain import events
from divert_warrants.domain.warrant_request import WarrantRequest, WarrantRequestStatus

_TIMES = ("assessment_due_by", "lapsed_at", "requested_at", "rescinded_at", "acknowledged_at", "flagged_at")


class DuplicateWarrantRequest(Exception):
    """Another transaction recorded a request for the same referral first (unique constraint)."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"referral {referral_id} already has a warrant request")
        self.referral_id = referral_id


def stream_id(warrant_request_id: UUID) -> str:
    """The event stream of one warrant request."""
    return f"warrant-request-{warrant_request_id}"


class WarrantRequestRepository:
    """Loads warrant requests from and saves them to the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def get(self, warrant_request_id: UUID) -> WarrantRequest | None:
        """The request rebuilt from its events, or None."""
        stored = await self._uow.events.read(stream_id(warrant_request_id))
        if not stored:
            return None
        history = [events.EVENT_TYPES[e.event_type].model_validate(e.data) for e in stored]
        return WarrantRequest.from_events(warrant_request_id, history)

    async def get_for_referral(self, referral_id: UUID) -> WarrantRequest | None:
        """The referral's request (there is never more than one), or None."""
        found = await self._uow.session.scalar(
            select(warrant_requests.c.warrant_request_id).where(warrant_requests.c.referral_id == str(referral_id))
        )
        return None if found is None else await self.get(UUID(found))

    async def save(self, request: WarrantRequest, metadata: dict[str, Any]) -> list[events.DomainEvent]:
        """Append the request's pending events and project them; returns what was appended.

        Raises `ConcurrencyConflict` (stream moved) or `DuplicateWarrantRequest` (the referral
        already has a request); either spoils the transaction, so the caller starts afresh.
        """
        pending, request.pending = request.pending, []
        await self._uow.events.append(
            stream_id(request.id),
            request.version,
            [NewEvent(e.name, e.model_dump(mode="json")) for e in pending],
            metadata,
        )
        request.version += len(pending)
        for event in pending:
            await self._project(event)
        return pending

    async def _project(self, event: events.DomainEvent) -> None:
        match event:
            case events.WarrantRequested():
                try:
                    await self._uow.session.execute(
                        insert(warrant_requests).values(
                            warrant_request_id=str(event.warrant_request_id),
                            referral_id=str(event.referral_id),
                            jurisdiction=event.jurisdiction,
                            kind=event.kind,
                            status=WarrantRequestStatus.REQUESTED.value,
                            assessment_due_by=as_utc(event.assessment_due_by),
                            lapsed_at=as_utc(event.lapsed_at),
                            requested_at=as_utc(event.requested_at),
                            updated_at=utcnow(),
                        )
                    )
                except IntegrityError as error:
                    raise DuplicateWarrantRequest(event.referral_id) from error
            case events.RequestRescinded():
                await self._update(
                    event,
                    status=WarrantRequestStatus.RESCINDED.value,
                    rescinded_at=as_utc(event.rescinded_at),
                    rescission_reason=event.reason,
                )
            case events.RequestAcknowledged():
                await self._update(
                    event,
                    status=WarrantRequestStatus.ACKNOWLEDGED.value,
                    acknowledged_at=as_utc(event.acknowledged_at),
                    acknowledged_by=event.acknowledged_by,
                )
            case events.WrongfulRequestFlagged():
                await self._update(event, flagged=True, flag_reason=event.reason, flagged_at=as_utc(event.flagged_at))

    async def _update(self, event: events.DomainEvent, **values: Any) -> None:
        await self._uow.session.execute(
            update(warrant_requests)
            .where(warrant_requests.c.warrant_request_id == str(event.warrant_request_id))
            .values(**values, updated_at=utcnow())
        )


@dataclass(frozen=True)
class WarrantRequestFilter:
    """Query filters, AND-combined; None means "any"."""

    referral_id: UUID | None = None
    status: str | None = None
    jurisdiction: str | None = None
    kind: str | None = None
    flagged: bool | None = None
    limit: int = 100


def _view(row: Any) -> dict[str, Any]:
    view = dict(row._mapping)
    view.pop("updated_at")
    for column in _TIMES:
        if column in view:
            view[column] = as_utc(view[column]) if view[column] is not None else None  # SQLite drops offsets
    return view


async def find_request(uow: UnitOfWork, warrant_request_id: UUID) -> dict[str, Any] | None:
    """The read-model view of one request, or None."""
    row = (
        await uow.session.execute(
            select(warrant_requests).where(warrant_requests.c.warrant_request_id == str(warrant_request_id))
        )
    ).first()
    return None if row is None else _view(row)


async def find_by_referral(uow: UnitOfWork, referral_id: UUID) -> dict[str, Any] | None:
    """The request raised for a referral, or None (there is never more than one)."""
    row = (
        await uow.session.execute(select(warrant_requests).where(warrant_requests.c.referral_id == str(referral_id)))
    ).first()
    return None if row is None else _view(row)


async def list_requests(uow: UnitOfWork, where: WarrantRequestFilter) -> list[dict[str, Any]]:
    """Requests matching every given filter, oldest first."""
    query = select(warrant_requests)
    if where.referral_id is not None:
        query = query.where(warrant_requests.c.referral_id == str(where.referral_id))
    if where.status is not None:
        query = query.where(warrant_requests.c.status == where.status)
    if where.jurisdiction is not None:
        query = query.where(warrant_requests.c.jurisdiction == where.jurisdiction)
    if where.kind is not None:
        query = query.where(warrant_requests.c.kind == where.kind)
    if where.flagged is not None:
        query = query.where(warrant_requests.c.flagged == where.flagged)
    # The id breaks ties so two requests recorded in the same instant keep a stable order.
    query = query.order_by(warrant_requests.c.requested_at, warrant_requests.c.warrant_request_id).limit(where.limit)
    return [_view(row) for row in await uow.session.execute(query)]
