"""The referral repository: the event store for truth, `referral_status` as the police-facing view.

Every status change also queues a callback message for each agency endpoint subscribed to it
(`status_callbacks`), in the same transaction.

Every stored event updates the view in the same transaction. An accepted referral, or one waiting
at its policy's approval gate, also claims its RMS case and pathway in `active_referrals` (a
withdrawal, or a decline at the gate, releases the claim): a second active referral for the same
case is `DuplicateActiveReferral`, and the transaction is rolled back.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, literal, select, update

from divert_intake.adapters.tables import active_referrals, referral_status
from divert_intake.domain import events
from divert_intake.domain.referral import Referral
from divert_intake.domain.reporting import decline_kind
from divert_intake.service_layer.ports import DuplicateActiveReferral
from divert_intake.service_layer.status_callbacks import status_change
from divert_platform.aggregate import DomainEvent
from divert_platform.callbacks.outbox import CallbackOutbox
from divert_platform.clock import utcnow
from divert_platform.columns import UtcDateTime
from divert_platform.db import insert_unless_present
from divert_platform.repository import EventSourcedRepository
from divert_platform.unit_of_work import SqlUnitOfWork

_DECISION_STATUS: Mapping[type[events.ReferralEvent], str] = {
    events.ApprovalRequested: "pending_approval",
    events.ReferralAccepted: "accepted",
    events.ReferralDeclined: "declined",
}


class SqlReferrals(EventSourcedRepository[Referral]):
    """Referrals in intake's database."""

    aggregate = Referral

    def __init__(self, uow: SqlUnitOfWork) -> None:
        super().__init__(uow)
        # Referrals whose gate was decided in the save being projected: their decision updates the
        # row the approval request wrote, where a referral decided at once inserts it.
        self._decided: set[UUID] = set()

    async def project(self, event: DomainEvent, version: int, metadata: Mapping[str, Any]) -> None:
        """Keep `referral_status` and `active_referrals` in step with the referral's events."""
        match event:
            case events.ApprovalRequested():
                await self._claim_rms_case(event)
                reasons = [r.model_dump() for r in event.reasons]
                await self._insert_status(
                    event,
                    "pending_approval",
                    reasons,
                    None,
                    eligible=event.recommended,
                    approval_by=event.approver,
                    approval_due_by=event.decide_by,
                )
            case events.ApprovalDecided():
                self._decided.add(event.referral_id)
            case events.ReferralAccepted() if event.referral_id in self._decided:
                await self._decide_status(event, "accepted", [], event.assessment_due_by)
            case events.ReferralDeclined() if event.referral_id in self._decided:
                await self._decide_status(event, "declined", [r.model_dump() for r in event.reasons], None)
                await self._release_rms_case(event)
            case events.ReferralAccepted():
                await self._claim_rms_case(event)
                await self._insert_status(event, "accepted", [], event.assessment_due_by)
            case events.ReferralDeclined():
                await self._insert_status(event, "declined", [r.model_dump() for r in event.reasons], None)
            case events.AssessmentRecorded():
                await self._update(event, status="assessed", assessed_on_time=event.on_time)
            case events.AssessmentDeadlineLapsed():
                await self._update(event, status="lapsed", lapsed_at=event.lapsed_at)
            case events.ReferralWithdrawn():
                await self._update(event, status="withdrawn", approval_by=None, approval_due_by=None)
                await self._release_rms_case(event)
            case events.DeadlineExtended():
                await self._update(event, assessment_due_by=event.assessment_due_by)
            case events.WarrantRequestNoted():
                # Reports count a referral a request was ever made for: the first request's time stays.
                requested_at = func.coalesce(
                    referral_status.c.warrant_requested_at, literal(event.requested_at or utcnow(), UtcDateTime())
                )
                await self._update(event, warrant_requested=True, warrant_requested_at=requested_at)
            case events.WarrantRescissionNoted():
                rescinded_at = event.rescinded_at or utcnow()
                await self._update(event, warrant_requested=False, warrant_rescinded_at=rescinded_at)
            case events.EnrollmentNoted():
                await self._update(event, enrolled=True)
            case events.ClosureNoted():
                await self._update(event, closed=True)
            case events.CaseOpeningNoted():
                await self._update(event, case_opened_at=event.opened_at)
        if isinstance(event, events.ReferralEvent):
            await self._call_back(event, version)

    async def _call_back(self, event: events.ReferralEvent, version: int) -> None:
        """Queue the change for the agencies' callback endpoints that subscribed to it."""
        view = await self._view_after(event)
        change = status_change(event, version, view) if view is not None else None
        if change is not None:
            await CallbackOutbox(self._uow.session).add(change, utcnow())

    async def _view_after(self, event: events.ReferralEvent) -> dict[str, Any] | None:
        """The police status row as `event` left it. A decision carries every field the row was
        just written from, so a submission costs no read back; other changes read the row."""
        if isinstance(event, events.ApprovalRequested | events.ReferralAccepted | events.ReferralDeclined):
            status = _DECISION_STATUS[type(event)]
            return {
                "jurisdiction": event.jurisdiction,
                "pathway": event.pathway,
                "agency": event.rms.agency,
                "case_number": event.rms.case_number,
                "status": status,
            }
        row = (
            await self._uow.session.execute(
                select(referral_status).where(referral_status.c.referral_id == str(event.referral_id))
            )
        ).first()
        return dict(row._mapping) if row is not None else None

    async def _claim_rms_case(self, event: events.ReferralAccepted | events.ApprovalRequested) -> None:
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
            raise DuplicateActiveReferral(existing or "unknown")

    async def _release_rms_case(self, event: events.ReferralEvent) -> None:
        """The referral no longer holds its RMS case and pathway (withdrawn, or declined at its gate)."""
        await self._uow.session.execute(
            delete(active_referrals).where(active_referrals.c.referral_id == str(event.referral_id))
        )

    async def _decide_status(
        self,
        event: events.ReferralAccepted | events.ReferralDeclined,
        status: str,
        reasons: list[dict[str, Any]],
        due: datetime | None,
    ) -> None:
        """The decision on a referral that waited at its gate: the row written then takes it (and
        the precinct, where the approval request, stored before requests kept it, had none)."""
        decision = {
            "eligible": status == "accepted",
            "policy": event.policy,
            "policy_version": event.policy_version,
            "reasons": reasons,
        }
        columns = _report_columns(event)
        if "precinct" in columns:
            columns["precinct"] = func.coalesce(referral_status.c.precinct, columns["precinct"])
        await self._update(
            event,
            status=status,
            decision=decision,
            assessment_due_by=due,
            approval_by=None,
            approval_due_by=None,
            **columns,
        )

    async def _insert_status(
        self,
        event: events.ReferralAccepted | events.ReferralDeclined | events.ApprovalRequested,
        status: str,
        reasons: list[dict[str, Any]],
        due: datetime | None,
        *,
        eligible: bool | None = None,
        **columns: Any,
    ) -> None:
        await self._uow.session.execute(
            insert(referral_status),
            {
                "referral_id": str(event.referral_id),
                "jurisdiction": event.jurisdiction,
                "pathway": event.pathway,
                "status": status,
                "agency": event.rms.agency,
                "case_number": event.rms.case_number,
                "decision": {
                    "eligible": status == "accepted" if eligible is None else eligible,
                    "policy": event.policy,
                    "policy_version": event.policy_version,
                    "reasons": reasons,
                },
                "referred_at": event.referred_at,
                "assessment_due_by": due,
                "enrolled": False,
                "warrant_requested": False,
                "updated_at": utcnow(),
                **_report_columns(event),
                **columns,
            },
        )

    async def _update(self, event: events.ReferralEvent, **values: Any) -> None:
        await self._uow.session.execute(
            update(referral_status)
            .where(referral_status.c.referral_id == str(event.referral_id))
            .values(**values, updated_at=utcnow())
        )


def _report_columns(
    event: events.ReferralAccepted | events.ReferralDeclined | events.ApprovalRequested,
) -> dict[str, Any]:
    """What reports read of a decision (or of the request at an approval gate): the policy version,
    the precinct (None in events stored before they carried it), when it was accepted (at once: as
    of its referral, as the status callbacks say), and a decline's kind."""
    columns: dict[str, Any] = {"policy_version": event.policy_version}
    match event:
        case events.ReferralAccepted():
            columns["accepted_at"] = event.approved_at or event.referred_at
            columns["precinct"] = event.location.precinct
        case events.ReferralDeclined():
            columns["decline_kind"] = decline_kind(reason.code for reason in event.reasons).value
            columns["precinct"] = event.precinct
        case events.ApprovalRequested():
            columns["precinct"] = event.precinct
    return columns
