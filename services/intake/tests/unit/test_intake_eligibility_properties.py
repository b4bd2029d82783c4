"""Properties of `decide` for every shipped policy version and arbitrary facts."""

from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from divert_contracts.referrals import Pathway
from divert_intake.domain.eligibility import decide
from divert_intake.domain.facts import EligibilityFacts, Offense, Screening
from divert_intake.domain.policy import JurisdictionPolicy, load_policy_book

BOOK = load_policy_book()
EVERY_VERSION = [version for jurisdiction in BOOK.ids() for version in BOOK.versions(jurisdiction)]

# Categories and drug types the policies name, mixed with arbitrary text, so that both the known
# paths (limits, exceptions) and the unknown ones are exercised.
CATEGORIES = sorted({rule.category for p in EVERY_VERSION for rule in p.offenses})
DRUG_TYPES = sorted({kind for p in EVERY_VERSION for rule in p.offenses for kind in rule.drug_types_without_limit})

offenses = st.builds(
    Offense,
    category=st.sampled_from(CATEGORIES) | st.text(max_size=20),
    statute=st.none() | st.text(max_size=10),
    drug_quantity_grams=st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),  # as the API admits
    drug_type=st.none() | st.sampled_from([*DRUG_TYPES, "opioid"]) | st.text(max_size=10),
)
screenings = st.builds(
    Screening,
    amenable=st.booleans(),
    dealing_for_profit=st.booleans(),
    exploits_minors=st.booleans(),
    promotes_prostitution=st.booleans(),
    disqualifying_convictions=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    on_state_probation=st.booleans(),
    in_treatment_court=st.booleans(),
    no_contact_order_with_participant=st.booleans(),
    prior_involvement_documented_on=st.none() | st.dates(),
)
facts = st.builds(
    EligibilityFacts,
    pathway=st.sampled_from(get_args(Pathway)),
    referred_on=st.dates(),
    offense=st.none() | offenses,
    screening=screenings,
    age=st.none() | st.integers(min_value=-5, max_value=150),
    contact_drivers=st.lists(st.sampled_from(["drug_use", "mental_illness", "poverty"]), max_size=3).map(tuple),
)


@given(policy=st.sampled_from(EVERY_VERSION), given_facts=facts)
def test_decide_is_total_and_explains_every_refusal(policy: JurisdictionPolicy, given_facts: EligibilityFacts) -> None:
    decision = decide(policy, given_facts)
    assert (decision.policy, decision.policy_version) == (policy.id, policy.version)
    if decision.eligible:
        assert decision.reasons == ()
    else:
        assert decision.reasons and all(reason.code and reason.message for reason in decision.reasons)


@given(policy=st.sampled_from(EVERY_VERSION), given_facts=facts)
def test_reason_codes_are_ones_the_policy_can_give(policy: JurisdictionPolicy, given_facts: EligibilityFacts) -> None:
    # Clients switch on codes; an unlisted one would be a code nobody documented.
    built_in = {
        "pathway_not_accepted",
        "offense_not_eligible",
        "drug_quantity_over_limit",
        "under_minimum_age",
        "no_qualifying_contact_driver",
        "no_recent_documented_involvement",
    }
    known = built_in | {rule.code for rule in policy.exclusions}
    assert {reason.code for reason in decide(policy, given_facts).reasons} <= known
