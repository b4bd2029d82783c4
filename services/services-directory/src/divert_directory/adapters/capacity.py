"""Capacity flags: services marked at capacity, each change an event in the service's own stream.

A flag is directory data about a service, not about a person, but who marked a service full and
when is still worth keeping: the stream `service-capacity-<service_id>` is its history, and
`service_capacity_flags` the current value matching reads.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.referral_tables import service_capacity_flags
from divert_directory.domain.events import ServiceCapacityMarked
from divert_platform.clock import as_utc
from divert_platform.db import upsert_insert
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork


def stream_id(service_id: UUID) -> str:
    """The event stream of one service's capacity."""
    return f"service-capacity-{service_id}"


async def capacity_of(session: AsyncSession, service_id: UUID) -> dict[str, Any] | None:
    """The service's capacity flag (`at_capacity`, `marked_at`, ...), or None if never marked."""
    row = (
        await session.execute(
            select(service_capacity_flags).where(service_capacity_flags.c.service_id == str(service_id))
        )
    ).first()
    if row is None:
        return None
    flag = dict(row._mapping)
    flag["marked_at"] = as_utc(flag["marked_at"])
    return flag


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


async def mark_capacity(
    uow: UnitOfWork,
    service_id: UUID,
    at_capacity: bool,
    now: datetime,
    metadata: dict[str, Any],
    *,
    service_referral_id: UUID | None = None,
) -> bool:
    """Mark the service at capacity or with room; False (and nothing recorded) when it already is.

    Raises `ConcurrencyConflict` when someone else marked it in the meantime.
    """
    current = await capacity_of(uow.session, service_id)
    if (current["at_capacity"] if current else False) == at_capacity:
        return False
    stream = stream_id(service_id)
    event = ServiceCapacityMarked(
        service_id=service_id, at_capacity=at_capacity, marked_at=now, service_referral_id=service_referral_id
    )
    await uow.events.append(
        stream, await uow.events.version(stream), [NewEvent(event.name, event.model_dump(mode="json"))], metadata
    )
    insert = upsert_insert(uow.session)
    values = {
        "at_capacity": at_capacity,
        "marked_at": now,
        "marked_by": metadata.get("actor"),
        "service_referral_id": str(service_referral_id) if service_referral_id else None,
    }
    await uow.session.execute(
        insert(service_capacity_flags)
        .values(service_id=str(service_id), **values)
        .on_conflict_do_update(index_elements=["service_id"], set_=values)
    )
    return True
