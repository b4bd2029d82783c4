"""Intake's command handlers and reactions to events."""

from datetime import datetime
from typing import Any
from uuid import UUID

from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralAccepted
from divert_intake.adapters.referrals import ReferralRepository
from divert_intake.deadline.models import DeadlineInput, LapseNotice
from divert_intake.domain.policy import JurisdictionPolicy
from divert_intake.domain.referral import Referral, SubmitReferral
from divert_intake.service_layer.integration import to_integration_event
from divert_intake.service_layer.ports import DeadlineClock
from divert_platform.unit_of_work import UnitOfWork


async def submit_referral(
    uow: UnitOfWork, command: SubmitReferral, policy: JurisdictionPolicy, now: datetime, actor: dict[str, Any]
) -> Referral:
    """Decide and record a new referral with its outbox event (the caller commits)."""
    referral = Referral.submit(command, policy, now)
    await _save(uow, referral, actor)
    return referral


async def record_lapse(uow: UnitOfWork, notice: LapseNotice) -> None:
    """The deadline workflow saw the window close: record it once and publish it."""
    repository = ReferralRepository(uow)
    referral = await repository.get(UUID(notice.referral_id))
    if referral is None:
        raise LookupError(f"no referral {notice.referral_id}")
    referral.record_lapse(notice.lapsed_at)
    await _save(uow, referral, {"actor": "referral-deadline-workflow", "role": "service"})
    await uow.commit()


async def when_referral_accepted_start_deadline(uow: UnitOfWork, message: DecodedEvent, clock: DeadlineClock) -> None:
    """Start the assessment clock of an accepted arrest diversion (idempotent by workflow id)."""
    event = message.event
    assert isinstance(event, ReferralAccepted)
    if event.pathway != "arrest_diversion" or event.assessment_due_by is None or event.lapse_action is None:
        return
    await clock.start(
        DeadlineInput(
            referral_id=str(event.referral_id),
            jurisdiction=event.jurisdiction,
            assessment_due_by=event.assessment_due_by,
            lapse_action=event.lapse_action,
        )
    )


async def when_case_assessment_completed_stop_deadline(
    uow: UnitOfWork, message: DecodedEvent, clock: DeadlineClock
) -> None:
    """Record the assessment on the referral and tell its clock, so no warrant is requested."""
    event = message.event
    assert isinstance(event, CaseAssessmentCompleted)
    repository = ReferralRepository(uow)
    referral = await repository.get(event.referral_id)
    if referral is None:
        return  # a case for a referral this intake never accepted: nothing to stop
    referral.record_assessment(event.completed_at)
    await _save(uow, referral, {"actor": message.source, "role": "service", "causation_id": message.id})
    if referral.assessment_due_by is not None and referral.lapse_action is not None:
        await clock.record_assessment(
            DeadlineInput(
                referral_id=str(referral.id),
                jurisdiction=referral.jurisdiction,
                assessment_due_by=referral.assessment_due_by,
                lapse_action=referral.lapse_action,
            ),
            event.completed_at,
        )


async def _save(uow: UnitOfWork, referral: Referral, metadata: dict[str, Any]) -> None:
    for event in await ReferralRepository(uow).save(referral, metadata):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
