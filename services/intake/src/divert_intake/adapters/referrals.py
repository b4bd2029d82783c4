"""The referral repository: event store for truth, `referral_status` as the police-facing view."""

from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update

from divert_intake.adapters.tables import active_referrals, referral_status
from divert_intake.domain import events
from divert_intake.domain.referral import Referral
from divert_platform.clock import as_utc, utcnow
from divert_platform.db import insert_unless_present
from divert_platform.event_store import NewEvent
from divert_platform.unit_of_work import UnitOfWork


class DuplicateActiveReferral(Exception):
    """Another active referral exists for the same RMS case and pathway."""

    def __init__(self, existing_referral_id: str) -> None:
        super().__init__(f"an active referral {existing_referral_id} exists for this RMS case and pathway")
        self.existing_referral_id = existing_referral_id


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
        """Append the referral's pending events and project them; returns what was appended.

        Raises `DuplicateActiveReferral` (and the caller rolls back) when an accepted referral
        would be the second active one for its RMS case and pathway.
        """
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
        key = str(event.referral_id)
        match event:
            case events.ReferralAccepted():
                await self._claim_rms_case(event)
                await self._insert_status(event, "accepted", [], event.assessment_due_by)
            case events.ReferralDeclined():
                await self._insert_status(event, "declined", [r.model_dump() for r in event.reasons], None)
            case events.AssessmentRecorded():
                await self._update(key, status="assessed", assessed_on_time=event.on_time)
            case events.AssessmentDeadlineLapsed():
                await self._update(key, status="lapsed")
            case events.ReferralWithdrawn():
                await self._update(key, status="withdrawn")
                await self._uow.session.execute(delete(active_referrals).where(active_referrals.c.referral_id == key))
            case events.DeadlineExtended():
                await self._update(key, assessment_due_by=as_utc(event.assessment_due_by))
            case events.WarrantRequestNoted():
                await self._update(key, warrant_requested=True)
            case events.WarrantRescissionNoted():
                await self._update(key, warrant_requested=False)
            case events.EnrollmentNoted():
                await self._update(key, enrolled=True)

    async def _claim_rms_case(self, event: events.ReferralAccepted) -> None:
        session = self._uow.session
        claim = {
            "agency": event.rms.agency,
            "case_number": event.rms.case_number,
            "pathway": event.pathway,
            "referral_id": str(event.referral_id),
        }
        if not await insert_unless_present(session, active_referrals, claim):
            existing = await session.scalar(
                select(active_referrals.c.referral_id).where(
                    active_referrals.c.agency == event.rms.agency,
                    active_referrals.c.case_number == event.rms.case_number,
                    active_referrals.c.pathway == event.pathway,
                )
            )
            raise DuplicateActiveReferral(existing or "unknown") from None

    async def _insert_status(
        self, event: events.ReferralAccepted | events.ReferralDeclined, status: str, reasons: list[Any], due: Any
    ) -> None:
        await self._uow.session.execute(
            insert(referral_status).values(
                referral_id=str(event.referral_id),
                jurisdiction=event.jurisdiction,
                pathway=event.pathway,
                status=status,
                agency=event.rms.agency,
                case_number=event.rms.case_number,
                decision={
                    "eligible": status == "accepted",
                    "policy": event.policy,
                    "policy_version": event.policy_version,
                    "reasons": reasons,
                },
                referred_at=as_utc(event.referred_at),
                assessment_due_by=as_utc(due) if due else None,
                enrolled=False,
                warrant_requested=False,
                updated_at=utcnow(),
            )
        )

    async def _update(self, referral_id: str, **values: Any) -> None:
        await self._uow.session.execute(
            update(referral_status)
            .where(referral_status.c.referral_id == referral_id)
            .values(**values, updated_at=utcnow())
        )
