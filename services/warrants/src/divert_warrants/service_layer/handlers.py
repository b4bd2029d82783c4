"""Warrants' command handlers (raise a request on a lapse, acknowledge it) and reactions to
other services' events (no wrongful warrant).

A request is wrongful when the referral's assessment was completed at or before the due time in
force at the lapse (an assessment after it never counts), and moot when the referral was
withdrawn. Either fact may arrive before or after the request; both are remembered (times only,
never case content) and `request_warrant` consults them, while an existing request is set right
at once: rescinded if nobody acted on it yet, flagged for the prosecutor's review if already
acknowledged, left alone if already rescinded or flagged. The consumer runner calls the
`when_…` reactions inside its transaction (inbox row included) and commits.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import ReferralWithdrawn
from divert_contracts.warrants import AcknowledgingRole
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotencyKeys
from divert_platform.unit_of_work import UnitOfWork
from divert_warrants.adapters.referral_facts import ReferralFactsRepository
from divert_warrants.adapters.warrant_requests import (
    DuplicateWarrantRequest,
    WarrantRequestRepository,
    find_by_referral,
    find_request,
)
from divert_warrants.domain.referral_facts import ReferralFacts
from divert_warrants.domain.warrant_request import RequestWarrant, WarrantRequest
from divert_warrants.service_layer.integration import to_integration_event

IDEMPOTENCY_SCOPE = "warrant-requests"
WARRANTS_SERVICE = "/divert/warrants"

Clock = Callable[[], datetime]


class ConcurrentRequest(Exception):
    """Concurrent writers kept colliding; the caller should retry later (nothing was recorded)."""


class RequestNotFound(LookupError):
    """No warrant request has this id."""


@dataclass(frozen=True)
class Outcome:
    """The referral's warrant request as it now stands, and whether this call created it."""

    view: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Idempotency:
    """The caller's `Idempotency-Key` and the fingerprint of the body it came with."""

    key: str
    fingerprint: str


async def request_warrant(
    unit_of_work: Callable[[], UnitOfWork],
    command: RequestWarrant,
    now: datetime,
    actor: dict[str, Any],
    idempotency: Idempotency | None = None,
    *,
    attempts: int = 3,
) -> Outcome:
    """Record the referral's warrant request once, with its outbox event; repeats get the existing one.

    If warrants already heard that the referral was assessed on time or withdrawn (events can
    overtake the lapse), the request is recorded together with its rescission. A concurrent
    writer for the same referral makes our transaction fail; the retry in a fresh transaction
    then finds its request and returns it.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with unit_of_work() as uow:
                return await _request_once(uow, command, now, actor, idempotency)
        # IntegrityError: a concurrent call stored the same new Idempotency-Key first.
        except (DuplicateWarrantRequest, ConcurrencyConflict, IntegrityError) as error:
            if attempt == attempts:
                raise ConcurrentRequest(str(error)) from error
    raise AssertionError("unreachable")


async def _request_once(
    uow: UnitOfWork, command: RequestWarrant, now: datetime, actor: dict[str, Any], idempotency: Idempotency | None
) -> Outcome:
    # First, so a late assessment or withdrawal being applied right now is either seen here or
    # sees our request (see adapters/referral_facts.py).
    facts = await ReferralFactsRepository(uow).lock(command.referral_id)
    keys = IdempotencyKeys(uow.session, IDEMPOTENCY_SCOPE)
    # A key reused with another body raises Conflict here. A matching key is not replayed
    # verbatim: the request as it stands now is more truthful than the first response.
    known_key = bool(idempotency and await keys.replay(idempotency.key, idempotency.fingerprint))
    existing = await find_by_referral(uow, command.referral_id)
    if existing is not None:
        if idempotency and not known_key:
            await keys.remember(idempotency.key, idempotency.fingerprint, 200, existing)
            await uow.commit()
        return Outcome(existing, created=False)
    request = WarrantRequest.request(command, now)
    await save(uow, request, actor)
    if (reason := facts.reason_to_rescind(command.assessment_due_by)) is not None:
        request.rescind(reason, now)
        await save(uow, request, {"actor": WARRANTS_SERVICE, "role": "service", "causation_id": facts.cause_of(reason)})
    view = await find_by_referral(uow, command.referral_id)
    assert view is not None
    if idempotency:
        await keys.remember(idempotency.key, idempotency.fingerprint, 201, view)
    await uow.commit()
    return Outcome(view, created=True)


async def acknowledge_request(
    unit_of_work: Callable[[], UnitOfWork],
    warrant_request_id: UUID,
    by: AcknowledgingRole,
    now: datetime,
    actor: dict[str, Any],
    *,
    attempts: int = 3,
) -> dict[str, Any]:
    """The prosecutor or court takes the request; returns its view.

    Raises `RequestNotFound`, or `InvalidTransition` when the request is rescinded or was
    acknowledged by the other role. A rescission racing with us wins or loses on the stream
    version; the loser is retried from a fresh load and so sees the winner.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with unit_of_work() as uow:
                request = await WarrantRequestRepository(uow).get(warrant_request_id)
                if request is None:
                    raise RequestNotFound(f"no warrant request {warrant_request_id}")
                request.acknowledge(by, now)
                await save(uow, request, actor)
                view = await find_request(uow, warrant_request_id)
                assert view is not None
                await uow.commit()
                return view
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def save(uow: UnitOfWork, request: WarrantRequest, metadata: dict[str, Any]) -> None:
    """Store the request's pending events and put their contract events in the outbox."""
    for event in await WarrantRequestRepository(uow).save(request, metadata):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)


async def when_case_assessment_completed_rescind_if_on_time(
    uow: UnitOfWork, message: DecodedEvent, *, clock: Clock = utcnow
) -> None:
    """Remember when the assessment was completed; rescind (or flag) a request it makes wrongful."""
    event = message.event
    assert isinstance(event, CaseAssessmentCompleted)
    facts_repository = ReferralFactsRepository(uow)
    facts = await facts_repository.lock(event.referral_id)
    facts.note_assessment(event.completed_at, message.id)  # the time only: needs stay with assessment
    await facts_repository.save(facts)
    await _set_right(uow, facts, message, clock())


async def when_referral_withdrawn_rescind(uow: UnitOfWork, message: DecodedEvent, *, clock: Clock = utcnow) -> None:
    """Remember the withdrawal; rescind (or flag) the referral's request."""
    event = message.event
    assert isinstance(event, ReferralWithdrawn)
    facts_repository = ReferralFactsRepository(uow)
    facts = await facts_repository.lock(event.referral_id)
    facts.note_withdrawal(event.withdrawn_at, message.id)  # not the free-text reason
    await facts_repository.save(facts)
    await _set_right(uow, facts, message, clock())


async def _set_right(uow: UnitOfWork, facts: ReferralFacts, message: DecodedEvent, now: datetime) -> None:
    request = await WarrantRequestRepository(uow).get_for_referral(facts.referral_id)
    if request is None or request.assessment_due_by is None:
        return  # no lapse yet: a later request will consult the facts
    reason = facts.reason_to_rescind(request.assessment_due_by)
    if reason is None:
        return
    request.set_right(reason, now)
    await save(uow, request, {"actor": message.source, "role": "service", "causation_id": message.id})
