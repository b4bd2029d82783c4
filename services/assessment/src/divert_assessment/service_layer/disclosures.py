"""Disclosing a case's data to a party under the consent gate (42 CFR Part 2, the golden rule)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

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
from divert_assessment.domain.organisations import OrganisationRegistry
from divert_contracts.cases import ConsentScope
from divert_platform.audit import ReadRecord


class DisclosureRefused(PermissionError):
    """The party is not registered or is enforcement, or no consent in force lets the data go;
    `decision` says why."""

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
    case: dict[str, Any],
    consents: list[dict[str, Any]],
    party: str,
    scope: ConsentScope,
    now: datetime,
    *,
    audit: ReadRecord,
    organisations: OrganisationRegistry,
) -> Disclosure:
    """The data of `case` that `scope` covers, for `party`, if one of its `consents` in force allows it.

    `case` and `consents` are the case's read-model rows, as the caller found them for the
    requester's agency. Only to an organisation in `organisations`, never to one of an enforcement
    type. The decision, granted or refused, is recorded in the audit trail before anything is
    returned. Raises `DisclosureRefused` saying why: the party is not registered, is enforcement,
    or the consent that is missing.
    """
    decision = may_disclose([_consent(consent) for consent in consents], party, scope, now, organisations=organisations)
    await record_disclosure(audit, UUID(case["referral_id"]), decision)
    if not decision.allowed:
        raise DisclosureRefused(decision)
    sections = SECTIONS[scope]
    needs = None
    if "assessment_needs" in sections:
        needs = disclosable_needs((Need(n["domain"], n["priority"]) for n in case["needs"] or []), decision)
    return Disclosure(
        decision=decision,
        contact_details=_contact_details(case) if "contact_details" in sections else None,
        program_status=_program_status(case) if "program_status" in sections else None,
        needs=needs,
        notice=REDISCLOSURE_NOTICE if needs and needs_notice(needs) else None,
    )


async def record_disclosure(audit: ReadRecord, referral_id: UUID, decision: Decision) -> None:
    """Audit a disclosure decision, granted or refused: for which party and scope, under which
    consent or why not (the record names who asked and the purpose they stated).

    Committed on its own, before anything is returned, so a refusal's record stays when the 403
    goes out.
    """
    outcome = f"under consent {decision.consent_id}" if decision.allowed else f"refused: {decision.refusal}"
    await audit.record(f"disclosure of {decision.scope} to {decision.party} {outcome}", [str(referral_id)])


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
