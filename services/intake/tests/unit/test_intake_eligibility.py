"""Eligibility reports every failing rule, with its code, under the policy version that decided."""

import pytest
from pydantic import ValidationError

from divert_intake.domain.eligibility import decide
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import ExclusionRule, load_policy_book

CLEAN = Screening(
    amenable=True,
    dealing_for_profit=False,
    exploits_minors=False,
    promotes_prostitution=False,
    disqualifying_convictions=(),
    on_state_probation=False,
    in_treatment_court=False,
    no_contact_order_with_participant=False,
)
KING = load_policy_book().get("king-county")
assert KING is not None


def test_an_eligible_referral_has_no_reasons_and_names_the_policy_version() -> None:
    decision = decide(KING, "arrest_diversion", Offense(category="drug_possession", drug_quantity_grams=1.2), CLEAN)
    assert decision.eligible and decision.reasons == ()
    assert (decision.policy, decision.policy_version) == ("king-county", KING.version)


def test_every_failing_rule_is_reported() -> None:
    screening = CLEAN.model_copy(
        update={"amenable": False, "dealing_for_profit": True, "disqualifying_convictions": ("robbery",)}
    )
    decision = decide(KING, "community", Offense(category="drug_possession", drug_quantity_grams=4.0), screening)
    assert not decision.eligible
    assert [r.code for r in decision.reasons] == [
        "pathway_not_accepted",
        "drug_quantity_over_limit",
        "not_amenable",
        "dealing_for_profit",
        "disqualifying_conviction",
    ]
    assert all(r.message for r in decision.reasons)


def test_an_offense_outside_the_list_is_not_eligible() -> None:
    decision = decide(KING, "arrest_diversion", Offense(category="burglary"), CLEAN)
    assert [r.code for r in decision.reasons] == ["offense_not_eligible"]


def test_exactly_the_limit_is_still_eligible() -> None:
    assert decide(
        KING, "arrest_diversion", Offense(category="drug_possession", drug_quantity_grams=3.0), CLEAN
    ).eligible


def test_a_policy_rule_must_name_a_real_screening_fact() -> None:
    with pytest.raises(ValidationError, match="unknown screening fact"):
        ExclusionRule(code="x", fact="favourite_colour", excluded_if=True, message="no")


def test_shipped_policies_load_and_include_demo() -> None:
    ids = [policy.id for policy in load_policy_book().all()]
    assert "king-county" in ids and "demo" in ids
