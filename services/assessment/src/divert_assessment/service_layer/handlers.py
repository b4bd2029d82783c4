"""Assessment's command handlers and reactions to events."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from divert_assessment.adapters.cases import CaseRepository
from divert_assessment.domain.case import Case
from divert_assessment.domain.commands import CaseCommand, OpenCase
from divert_assessment.domain.rules import previous_case_of_the_same_person
from divert_assessment.service_layer.integration import to_integration_event
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralAccepted
from divert_platform.clock import as_utc, utcnow
from divert_platform.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class CaseNotFound(LookupError):
    """No case was opened for this referral (not accepted, or not delivered yet)."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no case for referral {referral_id}")
        self.referral_id = referral_id


async def when_referral_accepted_open_case(
    uow: UnitOfWork, message: DecodedEvent, *, case_agencies: Mapping[str, str]
) -> None:
    """Open the case of an accepted referral, once, and announce it (the consumer commits).

    The case belongs to the case agency `case_agencies` names for its jurisdiction. With none
    named it is opened without one — seen by no case manager, counted by program reports — and a
    warning (with ids only, nothing about the person) says which jurisdiction needs an agency.
    A person the RMS agency already knows (same agency, same `rms_person_id`) whose earlier case
    is closed is re-referred: the new case links to the latest such case.
    """
    event = message.event
    assert isinstance(event, ReferralAccepted)
    repository = CaseRepository(uow)
    case = await repository.get(event.referral_id) or Case(id=event.referral_id)
    if case.status is not None:
        return  # a redelivery: the case is open already and nothing is recorded
    person_id = event.subject.rms_person_id
    earlier = await repository.earlier_cases(event.rms.agency, person_id) if person_id else []
    command = OpenCase(
        referral_id=event.referral_id,
        jurisdiction=event.jurisdiction,
        pathway=event.pathway,
        # a naive time in the event would not compare with aware ones later: read it as UTC
        referred_at=as_utc(event.referred_at),
        assessment_due_by=as_utc(event.assessment_due_by) if event.assessment_due_by else None,
        subject=event.subject,
        rms_agency=event.rms.agency,
        previous_referral_id=previous_case_of_the_same_person(event.rms.agency, person_id, earlier),
        agency=case_agencies.get(event.jurisdiction),
    )
    if command.agency is None:
        log.warning(
            "no case agency serves jurisdiction %r (DIVERT_CASE_AGENCIES): case %s is opened without one "
            "and no case manager can see it",
            event.jurisdiction,
            event.referral_id,
        )
    case.open(command, utcnow())
    await _save(uow, case, {"actor": message.source, "role": "service", "causation_id": message.id})


async def handle(uow: UnitOfWork, command: CaseCommand, now: datetime, actor: dict[str, Any]) -> Case:
    """Apply a command to its case and stage its events, outbox rows and read models (the caller commits).

    `actor` is the events' metadata (who, in which role and agency); the caller has checked that
    the case is the actor's agency's. Raises `CaseNotFound`, or the case's refusal (`InvalidTransition`, `RulesBroken`,
    `ConsentNotFound`, `ConsentAlreadyRevoked`), or `ConcurrencyConflict` on a concurrent change.
    """
    case = await CaseRepository(uow).get(command.referral_id)
    if case is None:
        raise CaseNotFound(command.referral_id)
    case.handle(command, now)
    await _save(uow, case, actor)
    return case


async def _save(uow: UnitOfWork, case: Case, metadata: dict[str, Any]) -> None:
    for event in await CaseRepository(uow).save(case, metadata):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
