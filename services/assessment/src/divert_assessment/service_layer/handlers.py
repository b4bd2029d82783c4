"""Assessment's command handlers and reactions to events."""

from datetime import datetime
from typing import Any
from uuid import UUID

from divert_assessment.adapters.cases import CaseRepository
from divert_assessment.domain.case import Case, CompleteAssessment, OpenCase
from divert_assessment.service_layer.integration import to_integration_event
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralAccepted
from divert_platform.clock import as_utc, utcnow
from divert_platform.unit_of_work import UnitOfWork


class CaseNotFound(LookupError):
    """No case was opened for this referral (not accepted, or not delivered yet)."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no case for referral {referral_id}")
        self.referral_id = referral_id


async def when_referral_accepted_open_case(uow: UnitOfWork, message: DecodedEvent) -> None:
    """Open the case of an accepted referral, once, and announce it (the consumer commits)."""
    event = message.event
    assert isinstance(event, ReferralAccepted)
    command = OpenCase(
        referral_id=event.referral_id,
        jurisdiction=event.jurisdiction,
        pathway=event.pathway,
        # a naive time in the event would not compare with aware ones later: read it as UTC
        referred_at=as_utc(event.referred_at),
        assessment_due_by=as_utc(event.assessment_due_by) if event.assessment_due_by else None,
        subject=event.subject,
        rms_agency=event.rms.agency,
    )
    repository = CaseRepository(uow)
    case = await repository.get(event.referral_id) or Case(id=event.referral_id)
    case.open(command, utcnow())
    await _save(uow, case, {"actor": message.source, "role": "service", "causation_id": message.id})


async def complete_assessment(uow: UnitOfWork, command: CompleteAssessment, now: datetime) -> Case:
    """Record a completed assessment with its outbox event (the caller commits)."""
    case = await CaseRepository(uow).get(command.referral_id)
    if case is None:
        raise CaseNotFound(command.referral_id)
    case.complete_assessment(command, now)
    await _save(uow, case, {"actor": command.case_manager_id, "role": "case_manager"})
    return case


async def _save(uow: UnitOfWork, case: Case, metadata: dict[str, Any]) -> None:
    for event in await CaseRepository(uow).save(case, metadata):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
