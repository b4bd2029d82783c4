"""Command handlers of closed-loop service referrals, suggestions and capacity.

Each runs inside the caller's unit of work and stages events, read models and outbox rows; the
caller commits. The caller's agency must own the case: any other case is "not found", exactly as
if it did not exist.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from divert_contracts.cases import PART2_DOMAINS, NeedDomain
from divert_directory.adapters.capacity import mark_capacity, services_at_capacity
from divert_directory.adapters.case_facts import find_case_facts, find_consents
from divert_directory.adapters.service_referrals import ServiceReferralRepository
from divert_directory.domain.case_facts import CaseFacts
from divert_directory.domain.catalogue import Catalogue, ServiceOffer
from divert_directory.domain.commands import ChangeServiceReferralStatus, MakeServiceReferral
from divert_directory.domain.consent_check import ConsentDecision, may_refer
from divert_directory.domain.matching import Suggestion, rank
from divert_directory.domain.service_referral import ServiceReferral
from divert_directory.service_layer.integration import to_integration_event
from divert_platform.unit_of_work import UnitOfWork


class CaseNotFound(LookupError):
    """No case of the caller's agency has this id (unknown, not heard of yet, or another agency's)."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no case for referral {referral_id}")


class ServiceReferralNotFound(LookupError):
    """No service referral of a case of the caller's agency has this id."""

    def __init__(self, service_referral_id: UUID) -> None:
        super().__init__(f"no service referral {service_referral_id}")


class ServiceNotFound(LookupError):
    """The catalogue has no service with this id."""

    def __init__(self, service_id: UUID) -> None:
        super().__init__(f"no service {service_id} in the directory")
        self.service_id = service_id


class ServiceUnsuitable(ValueError):
    """The service cannot take this referral (not active, another jurisdiction, not for this need)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CaseIsClosed(Exception):
    """The case is closed: nobody is referred from a closed case until it is reopened."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"case {referral_id} is closed; reopen it to refer the person to services")


class ConsentMissing(Exception):
    """No consent in force allows this referral; `decision` says which consent is missing."""

    def __init__(self, decision: ConsentDecision) -> None:
        super().__init__(decision.explanation)
        self.decision = decision


class CapacityOutOfScope(Exception):
    """The caller's agency or jurisdiction is not one the service serves."""


@dataclass(frozen=True)
class ReferToService:
    """A case manager's request to refer the case's person to a service for one need."""

    referral_id: UUID
    service_id: UUID
    need: NeedDomain


async def refer_to_service(
    uow: UnitOfWork,
    catalogue: Catalogue,
    request: ReferToService,
    *,
    agency: str | None,
    now: datetime,
    actor: dict[str, Any],
) -> ServiceReferral:
    """Make a service referral, if the service may take it and a consent in force allows it.

    Raises `CaseNotFound`, `ServiceNotFound`, `ServiceUnsuitable`, `CaseIsClosed` or `ConsentMissing`.
    """
    facts = await find_case_facts(uow.session, request.referral_id, agency=agency)
    if facts is None:
        raise CaseNotFound(request.referral_id)
    offer = await catalogue.offer(uow.session, request.service_id)
    if offer is None:
        raise ServiceNotFound(request.service_id)
    _check_suitable(offer, facts, request.need)
    if facts.closed:
        raise CaseIsClosed(facts.referral_id)
    part2 = request.need in PART2_DOMAINS
    decision = may_refer(
        await find_consents(uow.session, facts.referral_id), offer.organization_id, part2_needed=part2, now=now
    )
    if decision.consent_id is None:
        raise ConsentMissing(decision)
    referral = ServiceReferral(id=uuid4())
    referral.make(
        MakeServiceReferral(
            service_referral_id=referral.id,
            referral_id=facts.referral_id,
            jurisdiction=facts.jurisdiction,
            service_id=offer.service_id,
            organization_id=offer.organization_id,
            need=request.need,
            part2=part2,
            consent_id=decision.consent_id,
        ),
        now,
    )
    await _save(uow, referral, actor)
    return referral


async def change_service_referral_status(
    uow: UnitOfWork, command: ChangeServiceReferralStatus, *, agency: str | None, now: datetime, actor: dict[str, Any]
) -> ServiceReferral:
    """Record the provider's answer or the outcome. A decline for `no_capacity` also marks the
    service at capacity, so matching ranks it below services with room until someone says otherwise.

    Raises `ServiceReferralNotFound`, the referral's refusal (`InvalidStatusChange`,
    `ReasonMisplaced`), or `ConcurrencyConflict`.
    """
    referral = await ServiceReferralRepository(uow).get(command.service_referral_id)
    if referral is None or referral.referral_id is None:
        raise ServiceReferralNotFound(command.service_referral_id)
    if await find_case_facts(uow.session, referral.referral_id, agency=agency) is None:
        raise ServiceReferralNotFound(command.service_referral_id)
    referral.change_status(command, now)
    await _save(uow, referral, actor)
    if command.status == "declined" and command.reason == "no_capacity" and referral.service_id is not None:
        await mark_capacity(uow, referral.service_id, True, now, actor, service_referral_id=referral.id)
    return referral


async def suggest_services(
    uow: UnitOfWork,
    catalogue: Catalogue,
    referral_id: UUID,
    *,
    agency: str | None,
    postal_code: str | None,
    include_part2: bool,
) -> tuple[CaseFacts, list[Suggestion]]:
    """The case's facts and the jurisdiction's services ranked for its latest needs. Raises `CaseNotFound`."""
    facts = await find_case_facts(uow.session, referral_id, agency=agency)
    if facts is None:
        raise CaseNotFound(referral_id)
    offers = await catalogue.offers_in(uow.session, facts.jurisdiction)
    full = await services_at_capacity(uow.session, [offer.service_id for offer in offers])
    ranked = rank(facts.needs, offers, postal_code=postal_code, at_capacity=full, include_part2=include_part2)
    return facts, ranked


def may_mark_capacity(
    offer: ServiceOffer, *, role: str, agency: str | None, jurisdiction: str | None, case_agencies: Mapping[str, str]
) -> bool:
    """A program manager may mark services of its jurisdiction; a case manager those serving a
    jurisdiction its agency serves."""
    if role == "program_manager":
        return jurisdiction is not None and jurisdiction in offer.jurisdictions
    return agency is not None and any(case_agencies.get(j) == agency for j in offer.jurisdictions)


async def set_capacity(
    uow: UnitOfWork,
    offer: ServiceOffer,
    at_capacity: bool,
    *,
    now: datetime,
    actor: dict[str, Any],
) -> bool:
    """Mark the service at capacity or with room; False when it already was."""
    return await mark_capacity(uow, offer.service_id, at_capacity, now, actor)


def _check_suitable(offer: ServiceOffer, facts: CaseFacts, need: NeedDomain) -> None:
    if offer.status != "active":
        raise ServiceUnsuitable("service_id", f"the service is {offer.status}, not taking referrals")
    if facts.jurisdiction not in offer.jurisdictions:
        raise ServiceUnsuitable(
            "service_id", f"the service does not serve the case's jurisdiction ({facts.jurisdiction})"
        )
    if need not in offer.taxonomy_term_codes:
        raise ServiceUnsuitable("need", f"the service does not meet the {need} need")


async def _save(uow: UnitOfWork, referral: ServiceReferral, actor: dict[str, Any]) -> None:
    for event in await ServiceReferralRepository(uow).save(referral, actor):
        integration_event = to_integration_event(event, referral)
        if integration_event is not None:
            await uow.outbox.add(integration_event)
