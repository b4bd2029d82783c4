"""Warrants' command handlers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotencyKeys
from divert_platform.unit_of_work import UnitOfWork
from divert_warrants.adapters.warrant_requests import (
    DuplicateWarrantRequest,
    WarrantRequestRepository,
    find_by_referral,
)
from divert_warrants.domain.warrant_request import RequestWarrant, WarrantRequest
from divert_warrants.service_layer.integration import to_integration_event

IDEMPOTENCY_SCOPE = "warrant-requests"


class ConcurrentRequest(Exception):
    """Concurrent writers kept colliding; the caller should retry later (nothing was recorded)."""


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

    A concurrent writer for the same referral makes our transaction fail on the read model's
    unique referral id; the retry in a fresh transaction then finds its request and returns it.
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
    for event in await WarrantRequestRepository(uow).save(request, actor):
        integration_event = to_integration_event(event)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
    view = await find_by_referral(uow, command.referral_id)
    assert view is not None
    if idempotency:
        await keys.remember(idempotency.key, idempotency.fingerprint, 201, view)
    await uow.commit()
    return Outcome(view, created=True)
