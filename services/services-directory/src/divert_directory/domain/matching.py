"""Which services to suggest for a case, best first, and why each one.

A service is suggested when one of its taxonomy terms is a need the case's assessment found (the
seed taxonomy's term codes are the `NeedDomain` codes) and it serves where the person is. The
ranking, each step breaking the ties of the one before:

1. services with room before those marked at capacity (still listed, flagged: a case manager may
   know better, and capacity changes);
2. the most urgent need met (priority 1 first): housing first when housing is the top need;
3. the area: a service listing the person's postal code, then one covering its whole
   jurisdiction, then one limited to postal codes when no postal code was given (unverified);
4. more of the case's needs met;
5. the service's name, then its id, so equal services always come in the same order.

A service limited to postal codes that do not include the one given does not serve the person and
is left out. Needs 42 CFR Part 2 protects are matched only for callers who may see them.
"""

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal
from uuid import UUID

from divert_directory.domain.case_facts import NeedFact
from divert_directory.domain.catalogue import ServiceOffer

_ZIP_PLUS_FOUR = re.compile(r"^(\d{5})-?\d{4}$")


class AreaMatch(StrEnum):
    """How a service's area fits where the person is, best first."""

    POSTAL_CODE = "postal_code"
    """The service lists the person's postal code."""
    JURISDICTION = "jurisdiction"
    """The service covers the whole of the case's jurisdiction."""
    UNVERIFIED = "unverified"
    """The service is limited to postal codes and none was given, so it may not serve the person."""


_AREA_RANK = {AreaMatch.POSTAL_CODE: 0, AreaMatch.JURISDICTION: 1, AreaMatch.UNVERIFIED: 2}


ReasonCode = Literal[
    "meets_need", "serves_postal_code", "serves_jurisdiction", "area_unverified", "at_capacity", "has_capacity"
]
"""The stable codes of the reasons for a suggestion's place."""


@dataclass(frozen=True)
class Reason:
    """One reason a service is where it is in the ranking: a stable code and a sentence."""

    code: ReasonCode
    detail: str


@dataclass(frozen=True)
class Suggestion:
    """A service suggested for the case, with what decided its place."""

    offer: ServiceOffer
    needs_met: tuple[NeedFact, ...]
    """The case's needs the service meets, most urgent first."""
    area: AreaMatch
    at_capacity: bool
    reasons: tuple[Reason, ...]


def normalize_postal_code(code: str) -> str:
    """A postal code as compared: upper case without spaces; a US ZIP+4 as its five-digit ZIP."""
    compact = re.sub(r"\s+", "", code).upper()
    if match := _ZIP_PLUS_FOUR.match(compact):
        return match.group(1)
    return compact


def area_of(offer: ServiceOffer, postal_code: str | None) -> AreaMatch | None:
    """How the service's area fits `postal_code`; None when it serves other postal codes only."""
    if not offer.postal_codes:
        return AreaMatch.JURISDICTION
    if postal_code is None:
        return AreaMatch.UNVERIFIED
    served = {normalize_postal_code(code) for code in offer.postal_codes}
    return AreaMatch.POSTAL_CODE if normalize_postal_code(postal_code) in served else None


def needs_met_by(offer: ServiceOffer, needs: Iterable[NeedFact]) -> tuple[NeedFact, ...]:
    """The needs among `needs` that one of the service's taxonomy terms names, most urgent first."""
    met = [need for need in needs if need.domain in offer.taxonomy_term_codes]
    return tuple(sorted(met, key=lambda need: (need.priority, need.domain)))


def rank(
    needs: Sequence[NeedFact],
    offers: Iterable[ServiceOffer],
    *,
    postal_code: str | None,
    at_capacity: Collection[UUID],
    include_part2: bool,
) -> list[Suggestion]:
    """Every active service in `offers` that meets one of `needs` where the person is, best first.

    `at_capacity` holds the ids of services marked full. `include_part2` is False for a caller
    who may not see 42 CFR Part 2 needs: those needs are then not matched, so nothing suggested
    hints at them.
    """
    visible = [need for need in needs if include_part2 or not need.part2]
    suggestions = []
    for offer in offers:
        met = needs_met_by(offer, visible)
        area = area_of(offer, postal_code)
        if offer.status != "active" or not met or area is None:
            continue
        full = offer.service_id in at_capacity
        suggestions.append(Suggestion(offer, met, area, full, _reasons(met, area, full, postal_code)))
    return sorted(suggestions, key=_rank_key)


def _rank_key(suggestion: Suggestion) -> tuple[bool, int, int, int, str, str]:
    return (
        suggestion.at_capacity,
        suggestion.needs_met[0].priority,
        _AREA_RANK[suggestion.area],
        -len(suggestion.needs_met),
        suggestion.offer.name.casefold(),
        str(suggestion.offer.service_id),
    )


def _reasons(met: tuple[NeedFact, ...], area: AreaMatch, full: bool, postal_code: str | None) -> tuple[Reason, ...]:
    reasons = [Reason("meets_need", f"meets the {need.domain} need (priority {need.priority})") for need in met]
    match area:
        case AreaMatch.POSTAL_CODE:
            reasons.append(
                Reason("serves_postal_code", f"serves postal code {normalize_postal_code(postal_code or '')}")
            )
        case AreaMatch.JURISDICTION:
            reasons.append(Reason("serves_jurisdiction", "serves the whole of the case's jurisdiction"))
        case AreaMatch.UNVERIFIED:
            reasons.append(
                Reason("area_unverified", "serves only some postal codes; give the person's postal code to check")
            )
    if full:
        reasons.append(Reason("at_capacity", "marked at capacity: ranked below services with room"))
    else:
        reasons.append(Reason("has_capacity", "not marked at capacity"))
    return tuple(reasons)
