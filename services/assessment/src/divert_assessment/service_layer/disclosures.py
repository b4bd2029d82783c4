"""Disclosing a case's data to a party under the consent gate (42 CFR Part 2, the golden rule)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from divert_assessment.adapters.cases import find_case, find_consents
from divert_assessment.domain.consent_gate import (
    REDISCLOSURE_NOTICE,
    SECTIONS,
    Consent,
    Decision,
    Need,
    disclosable_needs,
    may_disclose,
    needs_notice,
)
from divert_assessment.service_layer.handlers import CaseNotFound
from divert_contracts.cases import ConsentScope
from divert_platform.unit_of_work import UnitOfWork


class DisclosureRefused(PermissionError):
    """No consent in force lets the data go; `decision` says which consent is missing."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.explanation)
        self.decision = decision


@dataclass(frozen=True)
class Disclosure:
    """What may go to the party: the sections its request covers (None when not asked for)."""

    decision: Decision
    contact_details: dict[str, Any] | None
    program_status: dict[str, Any] | None
    needs: list[Need] | None
    notice: str | None


async def disclose(
    uow: UnitOfWork, referral_id: UUID, party: str, scope: ConsentScope, now: datetime, actor: dict[str, Any]
) -> Disclosure:
    """The case data `scope` covers, for `party`, if a consent in force allows it.

    Raises `CaseNotFound`, or `DisclosureRefused` naming the consent that is missing.
    """
    row = await find_case(uow, referral_id)
    if row is None:
        raise CaseNotFound(referral_id)
    consents = [_consent(consent) for consent in await find_consents(uow, referral_id)]
    decision = may_disclose(consents, party, scope, now)
    await record_disclosure(uow, referral_id, decision, now, actor)
    if not decision.allowed:
        raise DisclosureRefused(decision)
    sections = SECTIONS[scope]
    needs = None
    if "assessment_needs" in sections:
        needs = disclosable_needs((Need(n["domain"], n["priority"]) for n in row["needs"] or []), decision)
    return Disclosure(
        decision=decision,
        contact_details=_contact_details(row) if "contact_details" in sections else None,
        program_status=_program_status(row) if "program_status" in sections else None,
        needs=needs,
        notice=REDISCLOSURE_NOTICE if needs and needs_notice(needs) else None,
    )


async def record_disclosure(
    uow: UnitOfWork, referral_id: UUID, decision: Decision, now: datetime, actor: dict[str, Any]
) -> None:
    """The one place every disclosure decision, granted or refused, is to be audited.

    Nothing is recorded yet: the audit trail (who asked, for whom, under which consent, when)
    comes with the security issue, which fills in this function. It runs before a refusal is
    raised, and the request's transaction is otherwise read-only, so an audit record written
    here has to be committed here too, or refusals would roll back with the 403.
    """


def _consent(row: dict[str, Any]) -> Consent:
    return Consent(
        consent_id=UUID(row["consent_id"]),
        parties=tuple(row["parties"]),
        scope=row["scope"],
        part2=row["part2"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def _contact_details(row: dict[str, Any]) -> dict[str, Any]:
    return {"given_name": row["given_name"], "family_name": row["family_name"], "phone": row["phone"]}


def _program_status(row: dict[str, Any]) -> dict[str, Any]:
    return {"status": row["status"], "engagement": row["engagement"], "enrolled": row["enrolled_at"] is not None}
