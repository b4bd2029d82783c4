"""The referral repository: event store for truth, `referral_status` as the police-facing view."""

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update

from divert_intake.adapters.tables import referral_status
from divert_intake.domain import events
from divert_intake.domain.referral import Referral
from divert_platform.clock import as_utc, utcnow
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork


def stream_id(referral_id: UUID) -> str:
    """The event stream of one referral."""
    return f"referral-{referral_id}"


class ReferralRepository:
    """Loads referrals from and saves them to the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def get(self, referral_id: UUID) -> Referral | None:
        """The referral rebuilt from its events, or None."""
        stored = await self._uow.events.read(stream_id(referral_id))
        if not stored:
            return None
        history = [events.EVENT_TYPES[e.event_type].model_validate(e.data) for e in stored]
        return Referral.from_events(referral_id, history)

    async def save(self, referral: Referral, metadata: dict[str, Any]) -> list[events.DomainEvent]:
        """Append the referral's pending events and project them; returns what was appended."""
        pending, referral.pending = referral.pending, []
        await self._uow.events.append(
            stream_id(referral.id),
            referral.version,
            [NewEvent(e.name, e.model_dump(mode="json")) for e in pending],
            metadata,
        )
        referral.version += len(pending)
        for event in pending:
            await self._project(event)
        return pending

    async def _project(self, event: events.DomainEvent) -> None:
        session, key, now = self._uow.session, str(event.referral_id), utcnow()
        match event:
            case events.ReferralAccepted() | events.ReferralFoundIneligible():
                accepted = isinstance(event, events.ReferralAccepted)
                reasons = [] if accepted else [r.model_dump() for r in event.reasons]  # type: ignore[union-attr]
                await session.execute(
                    insert(referral_status).values(
                        referral_id=key,
                        jurisdiction=event.jurisdiction,
                        pathway=event.pathway,
                        status="accepted" if accepted else "ineligible",
                        agency=event.rms.agency,
                        case_number=event.rms.case_number,
                        decision={
                            "eligible": accepted,
                            "policy": event.policy,
                            "policy_version": event.policy_version,
                            "reasons": reasons,
                        },
                        referred_at=as_utc(event.referred_at),
                        assessment_due_by=as_utc(event.assessment_due_by)
                        if accepted and event.assessment_due_by
                        else None,  # type: ignore[union-attr]
                        updated_at=now,
                    )
                )
            case events.AssessmentRecorded():
                await session.execute(
                    update(referral_status)
                    .where(referral_status.c.referral_id == key)
                    .values(status="assessed", assessed_on_time=event.on_time, updated_at=now)
                )
            case events.AssessmentDeadlineLapsed():
                await session.execute(
                    update(referral_status)
                    .where(referral_status.c.referral_id == key)
                    .values(status="lapsed", updated_at=now)
                )


async def find_status(uow: UnitOfWork, referral_id: UUID) -> dict[str, Any] | None:
    """The police status view of one referral, or None."""
    row = (
        await uow.session.execute(select(referral_status).where(referral_status.c.referral_id == str(referral_id)))
    ).first()
    if row is None:
        return None
    view = dict(row._mapping)
    for column in ("referred_at", "assessment_due_by", "updated_at"):
        if view[column] is not None:
            view[column] = as_utc(view[column])
    return view
