"""The service-referral repository: the event store for truth, `service_referrals` and
`service_referral_history` as the read models, written in the same transaction; and the queries
the API reads them with."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.referral_tables import directory_cases, service_referral_history, service_referrals
from divert_directory.domain import events
from divert_directory.domain.service_referral import ServiceReferral
from divert_platform.aggregate import DomainEvent
from divert_platform.clock import utcnow
from divert_platform.repository import EventSourcedRepository


class SqlServiceReferrals(EventSourcedRepository[ServiceReferral]):
    """Service referrals in the directory's database."""

    aggregate = ServiceReferral

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Keep `service_referrals` in step, and add the step to `service_referral_history`: its
        `sequence` is the event's version in the stream, its actor, role and agency who recorded it."""
        session = self._uow.session
        match event:
            case events.ServiceReferralMade():
                await session.execute(
                    insert(service_referrals),
                    {
                        "service_referral_id": str(event.service_referral_id),
                        "referral_id": str(event.referral_id),
                        "jurisdiction": event.jurisdiction,
                        "service_id": str(event.service_id),
                        "organization_id": str(event.organization_id),
                        "need": event.need,
                        "part2": event.part2,
                        "consent_id": str(event.consent_id),
                        "status": "sent",
                        "made_at": event.made_at,
                        "updated_at": utcnow(),
                    },
                )
                step = {"status": "sent", "reason": None, "at": event.made_at}
            case events.ServiceReferralStatusChanged():
                await session.execute(
                    update(service_referrals)
                    .where(service_referrals.c.service_referral_id == str(event.service_referral_id))
                    .values(status=event.status, updated_at=utcnow())
                )
                step = {"status": event.status, "reason": event.reason, "at": event.changed_at}
            case _:
                return
        await session.execute(
            insert(service_referral_history).values(
                service_referral_id=str(event.service_referral_id),
                sequence=version,
                **step,
                actor=metadata.get("actor"),
                role=metadata.get("role"),
                agency=metadata.get("agency"),
            )
        )


async def find_service_referral(
    session: AsyncSession, service_referral_id: UUID, *, agency: str | None
) -> dict[str, Any] | None:
    """One service referral with its `history`, when `agency` owns its case; None otherwise."""
    if agency is None:
        return None
    query = (
        select(service_referrals)
        .join(directory_cases, directory_cases.c.referral_id == service_referrals.c.referral_id)
        .where(service_referrals.c.service_referral_id == str(service_referral_id), directory_cases.c.agency == agency)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    [view] = await _with_history(session, [dict(row._mapping)])
    return view


async def list_service_referrals(
    session: AsyncSession, referral_id: UUID, *, offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """The service referrals of a case, oldest first, from `offset` on, at most `limit` (every one
    when None), each with its `history`."""
    rows = await session.execute(
        select(service_referrals)
        .where(service_referrals.c.referral_id == str(referral_id))
        .order_by(service_referrals.c.made_at, service_referrals.c.service_referral_id)
        .offset(offset)
        .limit(limit)
    )
    return await _with_history(session, [dict(row._mapping) for row in rows])


async def service_referral_streams(session: AsyncSession, referral_id: str) -> list[str]:
    """The event streams of a case's service referrals (for its audit trail)."""
    ids = await session.scalars(
        select(service_referrals.c.service_referral_id).where(service_referrals.c.referral_id == referral_id)
    )
    return [ServiceReferral.stream_id(UUID(service_referral_id)) for service_referral_id in ids]


async def _with_history(session: AsyncSession, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [view["service_referral_id"] for view in views]
    if not ids:
        return []
    rows = await session.execute(
        select(service_referral_history)
        .where(service_referral_history.c.service_referral_id.in_(ids))
        .order_by(service_referral_history.c.service_referral_id, service_referral_history.c.sequence)
    )
    history: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        step = dict(row._mapping)
        history[step.pop("service_referral_id")].append(step)
    for view in views:
        view["history"] = history[view["service_referral_id"]]
    return views
