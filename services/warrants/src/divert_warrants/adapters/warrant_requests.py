"""The warrant-request repository: the event store for truth, `warrant_requests` as the read model.

Every stored event updates the read model in the same transaction. A second request for a
referral breaks the read model's unique key: `DuplicateWarrantRequest`, and the transaction is
retried from scratch (it then finds the first request).
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from divert_platform.aggregate import DomainEvent
from divert_platform.clock import utcnow
from divert_platform.repository import EventSourcedRepository
from divert_warrants.adapters.tables import warrant_requests
from divert_warrants.domain import events
from divert_warrants.domain.warrant_request import WarrantRequest, WarrantRequestStatus
from divert_warrants.service_layer.ports import DuplicateWarrantRequest


class SqlWarrantRequests(EventSourcedRepository[WarrantRequest]):
    """Warrant requests in the warrants database."""

    aggregate = WarrantRequest

    async def get_for_referral(self, referral_id: UUID) -> WarrantRequest | None:
        """The referral's request (there is never more than one), or None."""
        found = await self._uow.session.scalar(
            select(warrant_requests.c.warrant_request_id).where(warrant_requests.c.referral_id == str(referral_id))
        )
        return None if found is None else await self.get(UUID(found))

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Keep `warrant_requests` in step with the request's events."""
        match event:
            case events.WarrantRequested():
                await self._insert(event)
            case events.RequestRescinded():
                await self._update(
                    event,
                    status=WarrantRequestStatus.RESCINDED.value,
                    rescinded_at=event.rescinded_at,
                    rescission_reason=event.reason,
                )
            case events.RequestAcknowledged():
                await self._update(
                    event,
                    status=WarrantRequestStatus.ACKNOWLEDGED.value,
                    acknowledged_at=event.acknowledged_at,
                    acknowledged_by=event.acknowledged_by,
                )
            case events.WrongfulRequestFlagged():
                await self._update(event, flagged=True, flag_reason=event.reason, flagged_at=event.flagged_at)
            case events.RequestDisposed():
                await self._update(event, disposition=event.disposition, disposed_at=event.disposed_at)

    async def _insert(self, event: events.WarrantRequested) -> None:
        try:
            await self._uow.session.execute(
                insert(warrant_requests),
                {
                    "warrant_request_id": str(event.warrant_request_id),
                    "referral_id": str(event.referral_id),
                    "jurisdiction": event.jurisdiction,
                    "kind": event.kind,
                    "status": WarrantRequestStatus.REQUESTED.value,
                    "assessment_due_by": event.assessment_due_by,
                    "lapsed_at": event.lapsed_at,
                    "requested_at": event.requested_at,
                    "updated_at": utcnow(),
                },
            )
        except IntegrityError as error:
            raise DuplicateWarrantRequest(event.referral_id) from error

    async def _update(self, event: events.WarrantRequestEvent, **values: Any) -> None:
        await self._uow.session.execute(
            update(warrant_requests)
            .where(warrant_requests.c.warrant_request_id == str(event.warrant_request_id))
            .values(**values, updated_at=utcnow())
        )
