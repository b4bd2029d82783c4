"""The consent gate, decided on plain values: the registry, expiry, revocation, parties, scope order and Part 2."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_assessment.domain.consent_gate import (
    REDISCLOSURE_NOTICE,
    SCOPES,
    Consent,
    Need,
    Refusal,
    disclosable_needs,
    may_disclose,
    needs_notice,
)
from divert_assessment.domain.organisations import Organisation, OrganisationRegistry
from divert_assessment.domain.rules import each_party_may_receive

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
REGISTRY = OrganisationRegistry(
    Organisation(id=id_, name=id_.title(), type=type_)
    for id_, type_ in [
        ("org-housing", "housing"),
        ("org-clinic", "health_care"),
        ("org-shelter", "housing"),
        ("org-other", "substance_use_treatment"),
        ("courtyard-housing", "housing"),
        ("city-police", "police"),
        ("county-prosecutor", "prosecution"),
        ("municipal-court", "court"),
        ("state-probation", "supervision"),
        ("county-jail", "jail"),
    ]
)
NEEDS = [Need("housing", 1), Need("substance_use_treatment", 2), Need("phone", 5)]


def consent(**overrides) -> Consent:
    fields = {
        "consent_id": uuid4(),
        "parties": ("org-housing", "org-clinic"),
        "scope": "assessment_needs",
        "part2": False,
        "expires_at": NOW + timedelta(days=30),
        "revoked_at": None,
    }
    return Consent(**(fields | overrides))


def test_a_consent_in_force_naming_the_party_with_that_scope_allows_it() -> None:
    given = consent()
    decision = may_disclose([given], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY)
    assert decision.allowed and decision.consent_id == given.consent_id and decision.refusal is None


@pytest.mark.parametrize(
    ("granted", "requested", "allowed"),
    [
        ("full_case", "contact_details", True),
        ("assessment_needs", "program_status", True),
        ("program_status", "program_status", True),
        ("contact_details", "program_status", False),
        ("program_status", "assessment_needs", False),
        ("assessment_needs", "full_case", False),
    ],
)
def test_a_wider_scope_covers_a_narrower_one_but_not_the_reverse(granted, requested, allowed) -> None:
    decision = may_disclose([consent(scope=granted)], "org-housing", requested, NOW, organisations=REGISTRY)
    assert decision.allowed is allowed
    assert decision.refusal == (None if allowed else Refusal.SCOPE_TOO_NARROW)


def test_scopes_run_from_least_to_most_as_the_contract_lists_them() -> None:
    assert SCOPES == ("contact_details", "program_status", "assessment_needs", "full_case")


def test_an_expired_consent_allows_nothing() -> None:
    decision = may_disclose(
        [consent(expires_at=NOW)],
        "org-housing",
        "contact_details",
        NOW,
        organisations=REGISTRY,
    )
    assert not decision.allowed and decision.refusal == Refusal.EXPIRED
    assert may_disclose(
        [consent(expires_at=NOW + timedelta(seconds=1))],
        "org-housing",
        "contact_details",
        NOW,
        organisations=REGISTRY,
    ).allowed


def test_a_revoked_consent_allows_nothing_even_before_it_would_expire() -> None:
    decision = may_disclose(
        [consent(revoked_at=NOW - timedelta(hours=1))],
        "org-housing",
        "contact_details",
        NOW,
        organisations=REGISTRY,
    )
    assert not decision.allowed and decision.refusal == Refusal.REVOKED
    assert "revoked" in decision.explanation


def test_a_party_the_consent_does_not_name_gets_nothing() -> None:
    decision = may_disclose([consent(scope="full_case")], "org-shelter", "contact_details", NOW, organisations=REGISTRY)
    assert not decision.allowed and decision.refusal == Refusal.NO_CONSENT_FOR_PARTY
    assert "'org-shelter'" in decision.explanation and "contact_details" in decision.explanation


def test_no_consents_at_all_is_a_missing_consent() -> None:
    assert (
        may_disclose([], "org-housing", "contact_details", NOW, organisations=REGISTRY).refusal
        == Refusal.NO_CONSENT_FOR_PARTY
    )


def test_a_narrow_consent_in_force_is_reported_rather_than_a_wide_one_that_lapsed() -> None:
    lapsed = consent(scope="full_case", expires_at=NOW - timedelta(days=1))
    decision = may_disclose(
        [lapsed, consent(scope="contact_details")], "org-housing", "full_case", NOW, organisations=REGISTRY
    )
    assert decision.refusal == Refusal.SCOPE_TOO_NARROW
    assert "full_case or wider" in decision.explanation


def test_another_consent_in_force_still_allows_after_one_is_revoked() -> None:
    live = consent(scope="full_case")
    decision = may_disclose(
        [consent(revoked_at=NOW), live],
        "org-housing",
        "assessment_needs",
        NOW,
        organisations=REGISTRY,
    )
    assert decision.consent_id == live.consent_id


def test_part2_needs_go_only_under_a_part2_consent() -> None:
    without = may_disclose([consent(part2=False)], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY)
    assert [need.domain for need in disclosable_needs(NEEDS, without)] == ["housing", "phone"]
    with_part2 = may_disclose([consent(part2=True)], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY)
    assert disclosable_needs(NEEDS, with_part2) == NEEDS


def test_a_part2_consent_is_relied_on_when_several_would_do() -> None:
    part2 = consent(part2=True, expires_at=NOW + timedelta(days=1))
    decision = may_disclose(
        [consent(scope="full_case"), part2], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY
    )
    assert decision.consent_id == part2.consent_id and decision.part2


def test_a_part2_consent_for_another_party_does_not_reach_part2_needs() -> None:
    other = consent(parties=("org-other",), part2=True)
    decision = may_disclose([other, consent()], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY)
    assert "substance_use_treatment" not in [need.domain for need in disclosable_needs(NEEDS, decision)]


def test_a_refusal_discloses_no_needs() -> None:
    decision = may_disclose(
        [consent(revoked_at=NOW, part2=True)], "org-clinic", "assessment_needs", NOW, organisations=REGISTRY
    )
    assert disclosable_needs(NEEDS, decision) == []


def test_the_redisclosure_notice_goes_only_with_part2_information_and_cites_2_32() -> None:
    assert needs_notice(NEEDS) and not needs_notice([Need("housing", 1)])
    assert "42 CFR §2.32" in REDISCLOSURE_NOTICE and "prosecute" in REDISCLOSURE_NOTICE


@pytest.mark.parametrize(
    "party", ["city-police", "county-prosecutor", "municipal-court", "state-probation", "county-jail"]
)
def test_an_enforcement_organisation_gets_nothing_even_when_a_consent_names_it(party: str) -> None:
    named = consent(parties=(party,), scope="full_case", part2=True)

    decision = may_disclose([named], party, "contact_details", NOW, organisations=REGISTRY)

    assert not decision.allowed and decision.refusal == Refusal.ENFORCEMENT_PARTY
    assert decision.party_type == REGISTRY.find(party).type
    assert "golden rule" in decision.explanation and f"'{party}'" in decision.explanation
    assert disclosable_needs(NEEDS, decision) == []


@pytest.mark.parametrize("party", ["org-unknown", "ORG-CLINIC", "org-clinic-east", "police"])
def test_a_party_not_registered_gets_nothing_even_when_a_consent_names_it(party: str) -> None:
    # an allowlist: a typo, another spelling or a unit of a registered organisation is not it
    named = consent(parties=(party,), scope="full_case", part2=True)

    decision = may_disclose([named], party, "contact_details", NOW, organisations=REGISTRY)

    assert not decision.allowed and decision.refusal == Refusal.NOT_REGISTERED
    assert decision.party_type is None
    assert "not a registered organisation" in decision.explanation and f"'{party}'" in decision.explanation


def test_a_registered_organisation_is_judged_on_its_consents_whatever_its_id_resembles() -> None:
    decision = may_disclose(
        [consent(parties=("courtyard-housing",))], "courtyard-housing", "contact_details", NOW, organisations=REGISTRY
    )

    assert decision.allowed and decision.party_type == "housing"


def test_a_consent_breaks_a_rule_for_each_party_not_registered_or_enforcement_naming_its_place() -> None:
    violations = each_party_may_receive(["org-clinic", "city-police", "nobody", "org-housing"], REGISTRY)

    assert [(v.field, v.code) for v in violations] == [
        ("parties.1", "enforcement_party"),
        ("parties.2", "unregistered_party"),
    ]
    assert "a police or sheriff's agency" in violations[0].message and "golden rule" in violations[0].message
    assert "'nobody' is not a registered organisation" in violations[1].message
    assert each_party_may_receive(["org-clinic", "org-housing"], REGISTRY) == []
