"""Reactions to `divert.cases`: keep what matching and the consent check need of each case.

Each handler merges one event into the case's facts (see `domain/case_facts.py`), which are
state-based, not event-sourced: any case event may be the first heard of a case, so each creates
the case's row from its jurisdiction when absent. The consumer runner has already de-duplicated
by CloudEvents id and set `uow.cause` to the event; the merges make the rest (redeliveries under
new ids, late and out-of-order events) harmless too. `case_agencies` (jurisdiction → the case
agency owning its cases) is bound where the handlers are wired (the consumer).
"""

import logging
from datetime import datetime
from uuid import UUID

from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
)
from divert_directory.domain.case_facts import CaseFacts, ConsentFact, NeedFact
from divert_directory.service_layer.handlers import CaseAgencies
from divert_directory.service_layer.unit_of_work import DirectoryUnitOfWork
from divert_platform.consumer import RejectedMessage

log = logging.getLogger(__name__)


async def when_case_opened_note_case(
    event: CaseOpened, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Remember the case, its jurisdiction and the agency owning it."""
    facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_opening(event.opened_at)
    await uow.cases.save(facts)


async def when_case_assessment_completed_note_needs(
    event: CaseAssessmentCompleted, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Keep the needs and priorities of the case's latest assessment."""
    facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    # Each need domain once, as assessment records them: the suggestions API shows them under that bound.
    once: dict[str, NeedFact] = {}
    for need in event.needs:
        once.setdefault(need.domain, NeedFact(need.domain, need.priority, need.part2))
    needs = tuple(once.values())
    if facts.note_assessment(event.completed_at, needs):
        await uow.cases.save(facts)


async def when_case_consent_recorded_note_consent(
    event: CaseConsentRecorded, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Keep the consent (parties, purpose, scope, Part 2, expiry); a revocation heard first still holds."""
    await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    consent = await _lock_consent(uow, event.consent_id, event.referral_id)
    await uow.consents.save(
        consent.with_record(
            parties=event.parties,
            purpose=event.purpose,
            scope=event.scope,
            part2=event.part2,
            recorded_at=event.recorded_at,
            expires_at=event.expires_at,
        )
    )


async def when_case_consent_revoked_note_revocation(
    event: CaseConsentRevoked, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Mark the consent revoked, even before the consent itself has arrived."""
    await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    consent = await _lock_consent(uow, event.consent_id, event.referral_id)
    await uow.consents.save(consent.with_revocation(event.revoked_at))


async def when_case_closed_note_closure(
    event: CaseClosed, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Remember the closure, ordered against reopenings by when it was recorded."""
    facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_closure(event.closed_at, _recorded_at(uow, event.closed_at))
    await uow.cases.save(facts)


async def when_case_reopened_note_reopening(
    event: CaseReopened, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> None:
    """Remember the reopening, ordered against closures by when it was recorded."""
    facts = await _lock(uow, event.referral_id, event.jurisdiction, case_agencies)
    facts.note_reopening(_recorded_at(uow, event.reopened_at))
    await uow.cases.save(facts)


async def _lock(
    uow: DirectoryUnitOfWork, referral_id: UUID, jurisdiction: str, case_agencies: CaseAgencies
) -> CaseFacts:
    agency = case_agencies.get(jurisdiction)
    if agency is None:
        # ids only: nothing about the person
        log.warning(
            "no case agency serves jurisdiction %r (DIVERT_CASE_AGENCIES): case %s is no case manager's",
            jurisdiction,
            referral_id,
        )
    return await uow.cases.lock(referral_id, jurisdiction=jurisdiction, agency=agency)


async def _lock_consent(uow: DirectoryUnitOfWork, consent_id: UUID, referral_id: UUID) -> ConsentFact:
    consent = await uow.consents.lock(consent_id, referral_id)
    if consent.referral_id != referral_id:
        # a consent id is its case's own: one claimed by two cases can never be applied safely
        raise RejectedMessage(f"consent {consent_id} belongs to another case")
    return consent


def _recorded_at(uow: DirectoryUnitOfWork, fallback: datetime) -> datetime:
    """When the producer recorded the event (the CloudEvents time of the cause), else the event's own time."""
    return uow.cause.time if uow.cause.time is not None else fallback
