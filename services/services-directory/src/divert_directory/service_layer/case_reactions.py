"""Reactions to `divert.cases`: keep what matching and the consent check need of each case.

Each handler merges one event into the case's facts (see `domain/case_facts.py`): any case event
may be the first heard of a case, so each creates the case's row from its jurisdiction when
absent. The consumer runner has already de-duplicated by CloudEvents id; the merges make the rest
(redeliveries under new ids, late and out-of-order events) harmless too.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
)
from divert_contracts.codec import DecodedEvent
from divert_directory.adapters.case_facts import CaseFactsRepository
from divert_directory.domain.case_facts import CaseFacts, ConsentFact, NeedFact
from divert_platform.clock import as_utc
from divert_platform.consumer import Handler, RejectedMessage
from divert_platform.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CaseAgencies = Mapping[str, str]


async def when_case_opened_note_case(uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies) -> None:
    """Remember the case, its jurisdiction and the agency owning it."""
    event = message.event
    assert isinstance(event, CaseOpened)
    repository, facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_opening(as_utc(event.opened_at))
    await repository.save(facts)


async def when_case_assessment_completed_note_needs(
    uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies
) -> None:
    """Keep the needs and priorities of the case's latest assessment."""
    event = message.event
    assert isinstance(event, CaseAssessmentCompleted)
    repository, facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    needs = tuple(NeedFact(need.domain, need.priority, need.part2) for need in event.needs)
    if facts.note_assessment(as_utc(event.completed_at), needs):
        await repository.save(facts)


async def when_case_consent_recorded_note_consent(
    uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies
) -> None:
    """Keep the consent (parties, purpose, scope, Part 2, expiry); a revocation heard first still holds."""
    event = message.event
    assert isinstance(event, CaseConsentRecorded)
    repository, _ = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    consent = await _lock_consent(repository, event.consent_id, event)
    await repository.save_consent(
        consent.with_record(
            parties=event.parties,
            purpose=event.purpose,
            scope=event.scope,
            part2=event.part2,
            recorded_at=as_utc(event.recorded_at),
            expires_at=as_utc(event.expires_at),
        )
    )


async def when_case_consent_revoked_note_revocation(
    uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies
) -> None:
    """Mark the consent revoked, even before the consent itself has arrived."""
    event = message.event
    assert isinstance(event, CaseConsentRevoked)
    repository, _ = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    consent = await _lock_consent(repository, event.consent_id, event)
    await repository.save_consent(consent.with_revocation(as_utc(event.revoked_at)))


async def when_case_closed_note_closure(uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies) -> None:
    """Remember the closure, ordered against reopenings by when it was recorded."""
    event = message.event
    assert isinstance(event, CaseClosed)
    repository, facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_closure(as_utc(event.closed_at), _recorded_at(message, event.closed_at))
    await repository.save(facts)


async def when_case_reopened_note_reopening(
    uow: UnitOfWork, message: DecodedEvent, *, case_agencies: CaseAgencies
) -> None:
    """Remember the reopening, ordered against closures by when it was recorded."""
    event = message.event
    assert isinstance(event, CaseReopened)
    repository, facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_reopening(_recorded_at(message, event.reopened_at))
    await repository.save(facts)


def case_handlers(case_agencies: CaseAgencies) -> dict[type[IntegrationEvent], Handler]:
    """The consumer's handlers, by event type, for the agencies serving each jurisdiction."""
    reactions: dict[type[IntegrationEvent], Any] = {
        CaseOpened: when_case_opened_note_case,
        CaseAssessmentCompleted: when_case_assessment_completed_note_needs,
        CaseConsentRecorded: when_case_consent_recorded_note_consent,
        CaseConsentRevoked: when_case_consent_revoked_note_revocation,
        CaseClosed: when_case_closed_note_closure,
        CaseReopened: when_case_reopened_note_reopening,
    }
    return {event_type: partial(react, case_agencies=case_agencies) for event_type, react in reactions.items()}


async def _lock(
    uow: UnitOfWork, referral_id: UUID, jurisdiction: str, case_agencies: CaseAgencies
) -> tuple[CaseFactsRepository, CaseFacts]:
    repository = CaseFactsRepository(uow)
    agency = case_agencies.get(jurisdiction)
    if agency is None:
        # ids only: nothing about the person
        log.warning(
            "no case agency serves jurisdiction %r (DIVERT_CASE_AGENCIES): case %s is no case manager's",
            jurisdiction,
            referral_id,
        )
    return repository, await repository.lock(referral_id, jurisdiction=jurisdiction, agency=agency)


async def _lock_consent(
    repository: CaseFactsRepository, consent_id: UUID, event: CaseConsentRecorded | CaseConsentRevoked
) -> ConsentFact:
    consent = await repository.lock_consent(consent_id, event.referral_id)
    if consent.referral_id != event.referral_id:
        # a consent id is its case's own: one claimed by two cases can never be applied safely
        raise RejectedMessage(f"consent {consent_id} belongs to another case")
    return consent


def _recorded_at(message: DecodedEvent, fallback: datetime) -> datetime:
    """When the producer recorded the event (its CloudEvents time), else the event's own time."""
    return as_utc(message.time) if message.time is not None else as_utc(fallback)
