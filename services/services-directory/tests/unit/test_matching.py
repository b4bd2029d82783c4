"""Ranking the jurisdiction's services for a case: exact orders, and the reasons for each place."""

from uuid import UUID

from divert_directory.domain.case_facts import NeedFact
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.matching import AreaMatch, area_of, normalize_postal_code, rank

ORG = UUID(int=900)
NEEDS = (
    NeedFact("housing", 1, False),
    NeedFact("food", 2, False),
    NeedFact("substance_use_treatment", 3, True),
)


def offer(n: int, name: str, *codes: str, postal: tuple[str, ...] = (), status: str = "active") -> ServiceOffer:
    return ServiceOffer(
        service_id=UUID(int=n),
        name=name,
        organization_id=ORG,
        organization_name="Org",
        status=status,
        taxonomy_term_codes=frozenset(codes),
        jurisdictions=frozenset({"king-county"}),
        postal_codes=frozenset(postal),
    )


SHELTER = offer(1, "Shelter", "housing")
LOCAL_SHELTER = offer(2, "Local shelter", "housing", postal=("98101",))
FAR_SHELTER = offer(3, "Far shelter", "housing", postal=("98199",))
PANTRY = offer(4, "Pantry", "food")
HOUSING_AND_FOOD = offer(5, "Housing and food", "housing", "food")
CLINIC = offer(6, "Clinic", "substance_use_treatment")
LEGAL_AID = offer(7, "Legal aid", "legal")
CLOSED_SHELTER = offer(8, "Closed shelter", "housing", status="inactive")
ALL = [SHELTER, LOCAL_SHELTER, FAR_SHELTER, PANTRY, HOUSING_AND_FOOD, CLINIC, LEGAL_AID, CLOSED_SHELTER]


def names(suggestions) -> list[str]:
    return [s.offer.name for s in suggestions]


def test_with_a_postal_code_local_before_jurisdiction_wide_and_other_areas_left_out() -> None:
    ranked = rank(NEEDS, ALL, postal_code="98101", at_capacity=set(), include_part2=True)

    assert names(ranked) == ["Local shelter", "Housing and food", "Shelter", "Pantry", "Clinic"]
    assert [s.area for s in ranked] == [AreaMatch.POSTAL_CODE] + [AreaMatch.JURISDICTION] * 4


def test_without_a_postal_code_postal_limited_services_come_last_in_their_priority_unverified() -> None:
    ranked = rank(NEEDS, ALL, postal_code=None, at_capacity=set(), include_part2=True)

    # both postal-limited shelters are unverified; equal otherwise, so by name
    assert names(ranked) == ["Housing and food", "Shelter", "Far shelter", "Local shelter", "Pantry", "Clinic"]


def test_at_capacity_services_drop_below_every_service_with_room_and_are_flagged() -> None:
    ranked = rank(
        NEEDS, ALL, postal_code="98101", at_capacity={LOCAL_SHELTER.service_id, PANTRY.service_id}, include_part2=True
    )

    assert names(ranked) == ["Housing and food", "Shelter", "Clinic", "Local shelter", "Pantry"]
    assert [s.at_capacity for s in ranked] == [False, False, False, True, True]


def test_part2_needs_are_matched_only_for_callers_who_may_see_them() -> None:
    ranked = rank(NEEDS, ALL, postal_code="98101", at_capacity=set(), include_part2=False)

    assert "Clinic" not in names(ranked)
    assert all(not need.part2 for s in ranked for need in s.needs_met)


def test_need_priority_beats_area() -> None:
    needs = (NeedFact("food", 1, False), NeedFact("housing", 2, False))

    ranked = rank(needs, [LOCAL_SHELTER, PANTRY], postal_code="98101", at_capacity=(), include_part2=True)

    assert names(ranked) == ["Pantry", "Local shelter"]


def test_meeting_more_needs_breaks_a_tie_of_priority_and_area() -> None:
    ranked = rank(NEEDS, [SHELTER, HOUSING_AND_FOOD], postal_code=None, at_capacity=(), include_part2=True)

    assert names(ranked) == ["Housing and food", "Shelter"]
    assert [n.domain for n in ranked[0].needs_met] == ["housing", "food"]


def test_every_suggestion_says_why_it_is_there() -> None:
    ranked = rank(
        NEEDS,
        [LOCAL_SHELTER, HOUSING_AND_FOOD],
        postal_code="98101-1234",
        at_capacity={HOUSING_AND_FOOD.service_id},
        include_part2=True,
    )

    assert [[(r.code, r.detail) for r in s.reasons] for s in ranked] == [
        [
            ("meets_need", "meets the housing need (priority 1)"),
            ("serves_postal_code", "serves postal code 98101"),
            ("has_capacity", "not marked at capacity"),
        ],
        [
            ("meets_need", "meets the housing need (priority 1)"),
            ("meets_need", "meets the food need (priority 2)"),
            ("serves_jurisdiction", "serves the whole of the case's jurisdiction"),
            ("at_capacity", "marked at capacity: ranked below services with room"),
        ],
    ]


def test_an_unverified_area_says_so() -> None:
    [only] = rank(NEEDS, [FAR_SHELTER], postal_code=None, at_capacity=(), include_part2=True)

    assert [r.code for r in only.reasons] == ["meets_need", "area_unverified", "has_capacity"]


def test_no_needs_no_suggestions() -> None:
    assert rank((), ALL, postal_code="98101", at_capacity=(), include_part2=True) == []


def test_inactive_services_and_services_meeting_no_need_are_never_suggested() -> None:
    ranked = rank(NEEDS, [CLOSED_SHELTER, LEGAL_AID], postal_code=None, at_capacity=(), include_part2=True)

    assert ranked == []


def test_postal_codes_compare_without_spaces_case_or_zip_plus_four() -> None:
    assert normalize_postal_code(" sw1a 1aa ") == "SW1A1AA"
    assert normalize_postal_code("98101-1234") == normalize_postal_code("981011234") == "98101"
    assert area_of(offer(9, "x", "food", postal=("SW1A 1AA",)), "sw1a1aa") is AreaMatch.POSTAL_CODE
    assert area_of(offer(9, "x", "food", postal=("98101",)), "98102") is None
