"""The capacity repository: each service's marks in its stream `service-capacity-<service_id>`,
the current value in `service_capacity_flags` (written in the same transaction), and the queries
matching and the API read it with. A service without a flag has room."""

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.referral_tables import service_capacity_flags
from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.events import ServiceCapacityMarked
from divert_platform.aggregate import DomainEvent
from divert_platform.db import upsert_insert
from divert_platform.repository import EventSourcedRepository


class SqlServiceCapacities(EventSourcedRepository[ServiceCapacity]):
    """Services' capacity in the directory's database."""

    aggregate = ServiceCapacity

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Keep the service's flag in step: its value, when and by whom it was marked."""
        match event:
            case ServiceCapacityMarked():
                await self._flag(event, marked_by=metadata.get("actor"))

    async def _flag(self, event: ServiceCapacityMarked, marked_by: str | None) -> None:
        values = {
            "at_capacity": event.at_capacity,
            "marked_at": event.marked_at,
            "marked_by": marked_by,
            "service_referral_id": str(event.service_referral_id) if event.service_referral_id else None,
        }
        insert = upsert_insert(self._uow.session)
        await self._uow.session.execute(
            insert(service_capacity_flags)
            .values(service_id=str(event.service_id), **values)
            .on_conflict_do_update(index_elements=["service_id"], set_=values)
        )


async def capacity_view(session: AsyncSession, service_id: UUID) -> dict[str, Any]:
    """Whether the service is marked at capacity, since when and by whom (never marked: room, no time)."""
    query = select(service_capacity_flags).where(service_capacity_flags.c.service_id == str(service_id))
    flag = (await session.execute(query)).first()
    return {
        "service_id": service_id,
        "at_capacity": flag.at_capacity if flag else False,
        "marked_at": flag.marked_at if flag else None,
        "marked_by": flag.marked_by if flag else None,
    }


async def services_at_capacity(session: AsyncSession, service_ids: Iterable[UUID]) -> set[UUID]:
    """Those of `service_ids` currently marked at capacity."""
    ids = [str(service_id) for service_id in service_ids]
    if not ids:
        return set()
    rows = await session.execute(
        select(service_capacity_flags.c.service_id).where(
            service_capacity_flags.c.service_id.in_(ids), service_capacity_flags.c.at_capacity.is_(True)
        )
    )
    return {UUID(service_id) for service_id in rows.scalars()}
