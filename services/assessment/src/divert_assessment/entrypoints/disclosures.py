"""Disclosures over REST: a case's data for a named party, only as far as the person consented."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from divert_assessment.adapters.case_queries import find_case, find_consents
from divert_assessment.bootstrap import Organisations
from divert_assessment.domain.consent_gate import Need
from divert_assessment.domain.rules import is_part2
from divert_assessment.domain.status import CaseStatus
from divert_assessment.entrypoints.callers import CaseManager
from divert_assessment.entrypoints.problems import CONSENT_MISSING_RESPONSE
from divert_assessment.entrypoints.schemas import MAX_NEEDS, PartyId, PersonName, Request
from divert_assessment.service_layer.disclosures import disclose
from divert_assessment.service_layer.handlers import CaseNotFound
from divert_contracts.cases import ConsentScope, Engagement, NeedDomain
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.problems import problem_responses
from divert_platform.text import free_text


class DisclosureRequest(Request):
    """Who is to receive the case's data, and how much of it."""

    party: PartyId = Field(description="The recipient: a registered organisation's id (`GET /v1/organisations`).")
    scope: ConsentScope = Field(description="What to disclose; a consent for this scope or a wider one is needed.")


class DisclosedContact(BaseModel):
    """How to reach the person."""

    given_name: PersonName
    family_name: PersonName
    phone: Annotated[str, free_text(32)] | None


class DisclosedStatus(BaseModel):
    """Where the person stands in the program."""

    status: CaseStatus
    engagement: Engagement | None
    enrolled: bool = Field(description="Whether the person enrolled (closed since or not).")


class DisclosedNeed(BaseModel):
    """A need found at assessment; `part2` marks 42 CFR Part 2 information."""

    domain: NeedDomain
    priority: int = Field(ge=1, le=10)
    part2: bool


class Disclosure(BaseModel):
    """The case data the request's scope covers; sections it does not cover are null."""

    referral_id: UUID
    party: PartyId
    scope: ConsentScope
    consent_id: UUID = Field(description="The consent the disclosure relies on.")
    disclosed_at: datetime
    contact_details: DisclosedContact | None
    program_status: DisclosedStatus | None
    needs: list[DisclosedNeed] | None = Field(
        max_length=MAX_NEEDS, description="Needs and priorities; Part 2 domains only under a consent marked `part2`."
    )
    redisclosure_notice: Annotated[str, free_text(2000)] | None = Field(
        description="The federal no-redisclosure notice (42 CFR §2.32), present whenever Part 2 information is."
    )


def _need(need: Need) -> DisclosedNeed:
    return DisclosedNeed(domain=need.domain, priority=need.priority, part2=is_part2(need.domain))


router = APIRouter(
    prefix="/v1/cases",
    tags=["disclosures"],
    responses=problem_responses(400, 401, 404, 413, 415, 422, 500) | CONSENT_MISSING_RESPONSE,
)


@router.post("/{referral_id}/disclosures", response_model=Disclosure, summary="Disclose under consent")
async def disclose_case(
    referral_id: UUID,
    body: DisclosureRequest,
    caller: CaseManager,
    read: Audited,
    organisations: Organisations,
) -> Any:
    """The case data `scope` covers, for `party`: `contact_details` (name and phone),
    `program_status` (status, engagement, enrolled or not), `assessment_needs` (need domains
    and priorities) or `full_case` (all three). Only when a consent that is neither revoked
    nor expired names the party with that scope or a wider one (scopes run contact_details <
    program_status < assessment_needs < full_case); otherwise 403, saying which consent is
    missing. `party` must be a registered organisation (`GET /v1/organisations`): any other
    is 422 `unregistered_party` naming `body.party`. Never to police, prosecution, a court,
    supervision or a jail, whatever a consent says: 403 with reason `party_is_enforcement`
    and the `party_type` (LEAD's golden rule).
    Substance-use-treatment needs (42 CFR Part 2) go only under a consent marked `part2`,
    with the federal no-redisclosure notice. Every decision, granted or refused, is recorded
    in the audit trail with the `X-Divert-Purpose` given; a case of another agency is 404."""
    now = utcnow()
    case = await find_case(read.session, referral_id, agency=caller.agency)
    if case is None:
        raise CaseNotFound(referral_id)
    consents = await find_consents(read.session, referral_id)
    result = await disclose(case, consents, body.party, body.scope, now, audit=read, organisations=organisations)
    return Disclosure(
        referral_id=referral_id,
        party=body.party,
        scope=body.scope,
        consent_id=result.decision.consent_id,
        disclosed_at=now,
        contact_details=result.contact_details,
        program_status=result.program_status,
        needs=None if result.needs is None else [_need(need) for need in result.needs],
        redisclosure_notice=result.notice,
    )
