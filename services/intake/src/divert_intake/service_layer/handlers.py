"""Intake's command handlers and reactions to events."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from divert_contracts.cases import CaseAssessmentCompleted, CaseParticipantEnrolled
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralAccepted, ReferralDeadlineExtended, ReferralWithdrawn
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.metrics import deadline_start_latency
from divert_intake.adapters.referrals import ReferralRepository
from divert_intake.deadline.models import DeadlineInput, LapseNotice
from divert_intake.domain.policy import JurisdictionPolicy
from divert_intake.domain.referral import Referral, SubmitReferral
from divert_intake.service_layer.integration import to_integration_event
from divert_intake.service_layer.ports import DeadlineClock
from divert_platform.unit_of_work import UnitOfWork


class ReferralNotFound(LookupError):
    """No referral has this id."""


async def submit_referral(
    uow: UnitOfWork, command: SubmitReferral, policy: JurisdictionPolicy, now: datetime, actor: dict[str, Any]
) -> Referral:
    """Decide and record a new referral with its outbox event (the caller commits)."""
    referral = Referral.submit(command, policy, now)
    await _save(uow, referral, actor)
    return referral


async def withdraw_referral(
    uow: UnitOfWork, referral_id: UUID, reason: str, now: datetime, actor: dict[str, Any]
) -> Referral:
    """Withdraw a referral (the caller commits); its clock is stopped from the published event."""
    referral = await _load(uow, referral_id)
    referral.withdraw(reason, now)
    await _save(uow, referral, actor)
    return referral


async def extend_deadline(
    uow: UnitOfWork, referral_id: UUID, new_due: datetime, reason: str, now: datetime, actor: dict[str, Any]
) -> Referral:
    """Move a pending arrest diversion's due time later (the caller commits)."""
    referral = await _load(uow, referral_id)
    referral.extend_deadline(new_due, reason, now)
    await _save(uow, referral, actor)
    return referral


async def record_lapse(uow: UnitOfWork, notice: LapseNotice) -> None:
    """The deadline workflow saw the window close: record it once and publish it."""
    referral = await _load(uow, UUID(notice.referral_id))
    referral.record_lapse(notice.lapsed_at)
    await _save(uow, referral, {"actor": "referral-deadline-workflow", "role": "service"})
    await uow.commit()


async def warrant_still_due(uow: UnitOfWork, referral_id: UUID) -> bool:
    """Whether the lapse of this referral should still reach warrants (see `Referral.warrant_still_due`)."""
    return (await _load(uow, referral_id)).warrant_still_due


async def when_referral_accepted_start_deadline(message: DecodedEvent, clock: DeadlineClock) -> None:
    """Start the assessment clock of an accepted arrest diversion (idempotent by workflow id: a
    consumer effect, run with no transaction open)."""
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
    if message.time is not None:
        # The clock counts from the referral, not from here: this shows how far behind we run.
        waited = (datetime.now(UTC) - message.time).total_seconds()
        deadline_start_latency.record(max(waited, 0.0), {"jurisdiction": event.jurisdiction})


async def when_case_assessment_completed_stop_deadline(
    uow: UnitOfWork, message: DecodedEvent, clock: DeadlineClock
) -> None:
    """Record the assessment on the referral and tell its clock, so no warrant is requested."""
    event = message.event
    assert isinstance(event, CaseAssessmentCompleted)
    referral = await ReferralRepository(uow).get(event.referral_id)
    if referral is None:
        return  # a case for a referral this intake never accepted: nothing to stop
    referral.record_assessment(event.completed_at)
    await _save(uow, referral, _caused_by(message))
    if (deadline := _deadline_of(referral)) is not None:
        await clock.record_assessment(deadline, event.completed_at)


async def when_referral_withdrawn_stop_deadline(uow: UnitOfWork, message: DecodedEvent, clock: DeadlineClock) -> None:
    """Stop the clock of a withdrawn arrest diversion."""
    event = message.event
    assert isinstance(event, ReferralWithdrawn)
    referral = await ReferralRepository(uow).get(event.referral_id)
    if referral is not None and (deadline := _deadline_of(referral)) is not None:
        await clock.withdraw(deadline, event.withdrawn_at)


async def when_deadline_extended_move_deadline(uow: UnitOfWork, message: DecodedEvent, clock: DeadlineClock) -> None:
    """Move the clock's due time to the extended one."""
    event = message.event
    assert isinstance(event, ReferralDeadlineExtended)
    referral = await ReferralRepository(uow).get(event.referral_id)
    if referral is not None and (deadline := _deadline_of(referral)) is not None:
        await clock.extend(deadline, event.assessment_due_by)


async def when_warrant_requested_note_it(uow: UnitOfWork, message: DecodedEvent) -> None:
    """Police see "warrant requested: yes" once warrants has recorded the request."""
    event = message.event
    assert isinstance(event, WarrantRequested)
    await _note(uow, message, lambda referral: referral.note_warrant_request(event.warrant_request_id))


async def when_participant_enrolled_note_it(uow: UnitOfWork, message: DecodedEvent) -> None:
    """Police see "enrolled: yes" once the case agency enrolls the person (nothing else of the case)."""
    event = message.event
    assert isinstance(event, CaseParticipantEnrolled)
    await _note(uow, message, lambda referral: referral.note_enrollment(event.enrolled_at))


async def when_warrant_request_rescinded_note_it(uow: UnitOfWork, message: DecodedEvent) -> None:
    """Police see "warrant requested: no" again once warrants has rescinded the request."""
    event = message.event
    assert isinstance(event, WarrantRequestRescinded)
    await _note(uow, message, lambda referral: referral.note_warrant_rescission(event.warrant_request_id))


async def _note(uow: UnitOfWork, message: DecodedEvent, change: Callable[[Referral], None]) -> None:
    """Apply another service's news to the referral it concerns (if intake knows it) and save."""
    referral = await ReferralRepository(uow).get(message.event.referral_id)
    if referral is not None:
        change(referral)
        await _save(uow, referral, _caused_by(message))


def _deadline_of(referral: Referral) -> DeadlineInput | None:
    if referral.assessment_due_by is None or referral.lapse_action is None:
        return None
    return DeadlineInput(
        referral_id=str(referral.id),
        jurisdiction=referral.jurisdiction,
        assessment_due_by=referral.assessment_due_by,
        lapse_action=referral.lapse_action,
    )


def _caused_by(message: DecodedEvent) -> dict[str, Any]:
    return {"actor": message.source, "role": "service", "causation_id": message.id}


async def _load(uow: UnitOfWork, referral_id: UUID) -> Referral:
    referral = await ReferralRepository(uow).get(referral_id)
    if referral is None:
        raise ReferralNotFound(f"no referral {referral_id}")
    return referral


async def _save(uow: UnitOfWork, referral: Referral, metadata: dict[str, Any]) -> None:
    for event in await ReferralRepository(uow).save(referral, metadata):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
