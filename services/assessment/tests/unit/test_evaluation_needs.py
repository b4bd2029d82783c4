"""The Part 2 rule of the evaluation extract: a Part 2 need only under a Part 2 consent naming an evaluator."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_assessment.domain.consent_gate import Consent
from divert_assessment.domain.evaluation import FoundNeed, evaluation_needs
from divert_assessment.domain.organisations import Organisation, OrganisationRegistry

NOW = datetime(2026, 3, 1, tzinfo=UTC)
REGISTRY = OrganisationRegistry(
    [
        Organisation(id="uw-evaluation", name="The evaluation team", type="evaluation"),
        Organisation(id="clinic", name="A clinic", type="health_care"),
        Organisation(id="spd", name="Police", type="police"),
    ]
)
NEEDS = [
    FoundNeed("housing", 2, False),
    FoundNeed("substance_use_treatment", 1, True),
    FoundNeed("mental_health", 3, False),
]


def consent(**overrides: object) -> Consent:
    fields: dict[str, object] = {
        "consent_id": uuid4(),
        "parties": ("uw-evaluation",),
        "scope": "assessment_needs",
        "part2": True,
        "expires_at": NOW + timedelta(days=30),
    }
    return Consent(**(fields | overrides))  # type: ignore[arg-type]


def test_without_a_consent_part2_needs_are_left_out_without_a_trace() -> None:
    assert evaluation_needs(NEEDS, [], NOW, REGISTRY) == ["housing", "mental_health"]


def test_a_part2_consent_naming_an_evaluator_lets_them_in_most_urgent_first() -> None:
    assert evaluation_needs(NEEDS, [consent()], NOW, REGISTRY) == [
        "substance_use_treatment",
        "housing",
        "mental_health",
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"part2": False},  # a consent that does not reach Part 2 data
        {"parties": ("clinic",)},  # a consent for someone else
        {"scope": "program_status"},  # too narrow for needs
        {"revoked_at": NOW - timedelta(days=1)},
        {"expires_at": NOW - timedelta(seconds=1)},
    ],
    ids=["not-part2", "other-party", "narrow-scope", "revoked", "expired"],
)
def test_any_other_consent_is_not_enough(overrides: dict[str, object]) -> None:
    assert evaluation_needs(NEEDS, [consent(**overrides)], NOW, REGISTRY) == ["housing", "mental_health"]


def test_a_wider_scope_covers_needs() -> None:
    assert "substance_use_treatment" in evaluation_needs(NEEDS, [consent(scope="full_case")], NOW, REGISTRY)


def test_a_part2_domain_is_protected_even_if_a_record_forgot_its_label() -> None:
    unlabelled = [FoundNeed("substance_use_treatment", 1, False)]
    assert evaluation_needs(unlabelled, [], NOW, REGISTRY) == []


def test_a_registry_without_an_evaluation_organisation_never_lets_part2_in() -> None:
    registry = OrganisationRegistry([Organisation(id="clinic", name="A clinic", type="health_care")])
    everyone = consent(parties=("clinic",), scope="full_case")
    assert evaluation_needs(NEEDS, [everyone], NOW, registry) == ["housing", "mental_health"]
