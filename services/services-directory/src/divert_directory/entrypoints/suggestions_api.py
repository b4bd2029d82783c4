"""`GET /v1/cases/{referral_id}/suggestions`: the jurisdiction's services ranked for a case's needs."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from divert_directory.adapters.capacity import services_at_capacity
from divert_directory.adapters.case_facts import find_case_facts
from divert_directory.adapters.catalogue import SqlCatalogue
from divert_directory.domain.matching import Suggestion, rank
from divert_directory.entrypoints.callers import CaseManager
from divert_directory.entrypoints.referral_schemas import (
    MAX_SUGGESTIONS,
    NeedView,
    ReasonView,
    SuggestionList,
    SuggestionView,
)
from divert_platform.audit import Audited
from divert_platform.problems import NotFound, problem_responses

router = APIRouter(prefix="/v1/cases", tags=["suggestions"], responses=problem_responses(400, 401, 403, 404, 422, 500))

Postcode = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=16,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
        description="Where the person is (cases carry no address): services listing it rank first, and "
        "services limited to other postal codes are left out.",
    ),
]


@router.get("/{referral_id}/suggestions", response_model=SuggestionList, summary="Services suggested for a case")
async def suggestions(referral_id: UUID, caller: CaseManager, read: Audited, postcode: Postcode = None) -> Any:
    """The active services of the case's jurisdiction that meet a need of its latest
    assessment, best first, each with the reasons for its place: which needs it meets (the
    most urgent need met ranks first), its area (the given postal code, the whole
    jurisdiction, or unverified without a postal code), and capacity (services marked at
    capacity come after every service with room, flagged). Part 2 needs
    (`substance_use_treatment`) are matched: only case managers of the owning agency reach
    this route. Before the assessment is heard of, the list is empty. A case of another
    agency is 404. The read is recorded in the audit trail. At most the best 100 are listed."""
    facts = await find_case_facts(read.session, referral_id, agency=caller.agency)
    if facts is None:
        raise NotFound(f"no case for referral {referral_id}")
    offers = await SqlCatalogue(read.session).offers_in(facts.jurisdiction)
    full = await services_at_capacity(read.session, [offer.service_id for offer in offers])
    await read.record("service suggestions", [str(referral_id)])
    ranked = rank(
        facts.needs, offers, postal_code=postcode, at_capacity=full, include_part2=caller.role == "case_manager"
    )
    return SuggestionList(
        referral_id=referral_id,
        jurisdiction=facts.jurisdiction,
        postcode=postcode,
        assessed_at=facts.assessed_at,
        needs=[NeedView(domain=n.domain, priority=n.priority, part2=n.part2) for n in facts.needs],
        case_closed=facts.closed,
        suggestions=[_view(place, suggestion) for place, suggestion in enumerate(ranked[:MAX_SUGGESTIONS], start=1)],
    )


def _view(place: int, suggestion: Suggestion) -> SuggestionView:
    offer = suggestion.offer
    return SuggestionView(
        rank=place,
        service_id=offer.service_id,
        name=offer.name,
        organization_id=offer.organization_id,
        organization_name=offer.organization_name,
        needs_met=[NeedView(domain=n.domain, priority=n.priority, part2=n.part2) for n in suggestion.needs_met],
        area=suggestion.area,
        at_capacity=suggestion.at_capacity,
        reasons=[ReasonView(code=r.code, detail=r.detail) for r in suggestion.reasons],
    )
