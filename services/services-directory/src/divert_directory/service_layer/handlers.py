"""The directory's command handlers: refer a case's person to a service, move the referral on, mark
a service's capacity.

A case manager sees only the cases its agency owns: any other case, and its service referrals,
is "not found", exactly as if it did not exist. Handlers never commit: whoever opened the unit of
work does (the API's idempotency helper).
"""

from collections.abc import Mapping
from uuid import UUID

from divert_contracts.cases import PART2_DOMAINS
from divert_directory.domain.capacity import ServiceCapacity, may_mark_capacity
from divert_directory.domain.commands import (
    ChangeServiceReferralStatus,
    MakeServiceReferral,
    MarkServiceCapacity,
    ReferToService,
)
from divert_directory.domain.consent_check import may_refer
from divert_directory.domain.errors import CapacityOutOfScope, NoConsentInForce, ServiceUnsuitable
from divert_directory.domain.service_referral import ServiceReferral, check_referable
from divert_directory.service_layer.unit_of_work import DirectoryUnitOfWork

CaseAgencies = Mapping[str, str]
"""The case agency serving each jurisdiction (`DIVERT_CASE_AGENCIES`)."""


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


async def refer_to_service(command: ReferToService, uow: DirectoryUnitOfWork) -> ServiceReferral:
    """Make a service referral, if the service may take it and a consent in force allows it.

    Raises `CaseNotFound`, `ServiceUnsuitable` (unknown, inactive, another jurisdiction's, not for
    the need), `CaseIsClosed` or `NoConsentInForce`.
    """
    facts = await uow.cases.find(command.referral_id, agency=command.agency)
    if facts is None:
        raise CaseNotFound(command.referral_id)
    offer = await uow.catalogue.offer(command.service_id)
    if offer is None:
        raise ServiceUnsuitable("service_id", f"no service {command.service_id} in the directory")
    check_referable(offer, facts, command.need)
    part2 = command.need in PART2_DOMAINS
    consents = await uow.consents.of_case(facts.referral_id)
    decision = may_refer(consents, offer.organization_id, part2_needed=part2, now=command.at)
    if decision.consent_id is None:
        raise NoConsentInForce(decision)
    referral = ServiceReferral(id=command.service_referral_id)
    referral.make(
        MakeServiceReferral(
            service_referral_id=referral.id,
            referral_id=facts.referral_id,
            jurisdiction=facts.jurisdiction,
            service_id=offer.service_id,
            organization_id=offer.organization_id,
            need=command.need,
            part2=part2,
            consent_id=decision.consent_id,
            at=command.at,
        )
    )
    await uow.service_referrals.save(referral)
    return referral


async def change_service_referral_status(
    command: ChangeServiceReferralStatus, uow: DirectoryUnitOfWork
) -> ServiceReferral:
    """Record the provider's answer or the outcome. A decline for `no_capacity` also marks the
    service at capacity, so matching ranks it below services with room until someone says otherwise.

    Raises `ServiceReferralNotFound`, the referral's refusal (`InvalidStatusChange`,
    `ReasonMisplaced`), or `ConcurrencyConflict` when another writer got there first.
    """
    referral = await uow.service_referrals.get(command.service_referral_id)
    if referral is None or referral.referral_id is None:
        raise ServiceReferralNotFound(command.service_referral_id)
    if await uow.cases.find(referral.referral_id, agency=command.agency) is None:
        raise ServiceReferralNotFound(command.service_referral_id)
    referral.change_status(command.status, command.reason, command.at)
    await uow.service_referrals.save(referral)
    if command.status == "declined" and command.reason == "no_capacity" and referral.service_id is not None:
        capacity = await uow.capacities.get(referral.service_id) or ServiceCapacity(id=referral.service_id)
        capacity.mark(True, command.at, service_referral_id=referral.id)
        await uow.capacities.save(capacity)
    return referral


async def mark_service_capacity(
    command: MarkServiceCapacity, uow: DirectoryUnitOfWork, *, case_agencies: CaseAgencies
) -> bool:
    """Mark the service at capacity or with room; False (nothing recorded) when it already was.

    Raises `ServiceNotFound`, or `CapacityOutOfScope` when the service serves none of the
    jurisdictions the caller may act for (see `may_mark_capacity`).
    """
    offer = await uow.catalogue.offer(command.service_id)
    if offer is None:
        raise ServiceNotFound(command.service_id)
    if not may_mark_capacity(
        offer, role=command.role, agency=command.agency, jurisdiction=command.jurisdiction, case_agencies=case_agencies
    ):
        raise CapacityOutOfScope()
    capacity = await uow.capacities.get(command.service_id) or ServiceCapacity(id=command.service_id)
    changed = capacity.mark(command.at_capacity, command.at)
    await uow.capacities.save(capacity)
    return changed
