"""The service-referral repository: the event store for truth, `service_referrals` and
`service_referral_history` as the read side, written in the same transaction."""

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update

from divert_directory.adapters.referral_tables import directory_cases, service_referral_history, service_referrals
from divert_directory.domain import events
from divert_directory.domain.service_referral import ServiceReferral
from divert_platform.clock import as_utc, utcnow
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork


def stream_id(service_referral_id: UUID) -> str:
    """The event stream of one service referral."""
    return f"service-referral-{service_referral_id}"


class ServiceReferralRepository:
    """Loads service referrals from and saves them to the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def get(self, service_referral_id: UUID) -> ServiceReferral | None:
        """The service referral rebuilt from its events, or None."""
        stored = await self._uow.events.read(stream_id(service_referral_id))
        if not stored:
            return None
        history = [events.EVENT_TYPES[e.event_type].model_validate(e.data) for e in stored]
        return ServiceReferral.from_events(service_referral_id, history)

    async def save(self, referral: ServiceReferral, metadata: dict[str, Any]) -> list[events.DomainEvent]:
        """Append the pending events and project them; returns what was appended.

        Raises `ConcurrencyConflict` when another writer changed the referral since it was loaded.
        """
        pending, referral.pending = referral.pending, []
        first = referral.version + 1
        await self._uow.events.append(
            stream_id(referral.id),
            referral.version,
            [NewEvent(e.name, e.model_dump(mode="json")) for e in pending],
            metadata,
        )
        referral.version += len(pending)
        for sequence, event in enumerate(pending, start=first):
            await _project(self._uow, event, sequence, metadata)
        return pending


async def _project(uow: UnitOfWork, event: events.DomainEvent, sequence: int, metadata: dict[str, Any]) -> None:
    now = utcnow()
    match event:
        case events.ServiceReferralMade():
            await uow.session.execute(
                insert(service_referrals).values(
                    service_referral_id=str(event.service_referral_id),
                    referral_id=str(event.referral_id),
                    jurisdiction=event.jurisdiction,
                    service_id=str(event.service_id),
                    organization_id=str(event.organization_id),
                    need=event.need,
                    part2=event.part2,
                    consent_id=str(event.consent_id),
                    status="sent",
                    made_at=as_utc(event.made_at),
                    updated_at=now,
                )
            )
            status, reason, at = "sent", None, event.made_at
        case events.ServiceReferralStatusChanged():
            await uow.session.execute(
                update(service_referrals)
                .where(service_referrals.c.service_referral_id == str(event.service_referral_id))
                .values(status=event.status, updated_at=now)
            )
            status, reason, at = event.status, event.reason, event.changed_at
        case _:
            return
    await uow.session.execute(
        insert(service_referral_history).values(
            service_referral_id=str(event.service_referral_id),
            sequence=sequence,
            status=status,
            reason=reason,
            at=as_utc(at),
            actor=metadata.get("actor"),
            role=metadata.get("role"),
            agency=metadata.get("agency"),
        )
    )


async def find_service_referral(
    uow: UnitOfWork, service_referral_id: UUID, *, agency: str | None
) -> dict[str, Any] | None:
    """One service referral with its `history`, when `agency` owns its case; None otherwise."""
    if agency is None:
        return None
    query = (
        select(service_referrals)
        .join(directory_cases, directory_cases.c.referral_id == service_referrals.c.referral_id)
        .where(service_referrals.c.service_referral_id == str(service_referral_id), directory_cases.c.agency == agency)
    )
    row = (await uow.session.execute(query)).first()
    if row is None:
        return None
    [view] = await _with_history(uow, [dict(row._mapping)])
    return view


async def list_service_referrals(uow: UnitOfWork, referral_id: UUID) -> list[dict[str, Any]]:
    """Every service referral of a case, oldest first, each with its `history`."""
    rows = await uow.session.execute(
        select(service_referrals)
        .where(service_referrals.c.referral_id == str(referral_id))
        .order_by(service_referrals.c.made_at, service_referrals.c.service_referral_id)
    )
    return await _with_history(uow, [dict(row._mapping) for row in rows])


async def _with_history(uow: UnitOfWork, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [view["service_referral_id"] for view in views]
    if not ids:
        return []
    rows = await uow.session.execute(
        select(service_referral_history)
        .where(service_referral_history.c.service_referral_id.in_(ids))
        .order_by(service_referral_history.c.service_referral_id, service_referral_history.c.sequence)
    )
    history: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        step = dict(row._mapping)
        step["at"] = as_utc(step["at"])
        history[step.pop("service_referral_id")].append(step)
    for view in views:
        view["made_at"], view["updated_at"] = as_utc(view["made_at"]), as_utc(view["updated_at"])
        view["history"] = history[view["service_referral_id"]]
    return views
