"""Properties of `decide` for every shipped policy version and arbitrary facts."""

from dataclasses import replace
from typing import NoReturn, get_args

from hypothesis import given
from hypothesis import strategies as st

from divert_contracts.referrals import Pathway
from divert_intake.domain.eligibility import decide
from divert_intake.domain.eligibility_rules import RULES
from divert_intake.domain.facts import EligibilityFacts, Offense, PriorConviction, Screening
from divert_intake.domain.policy import JurisdictionPolicy, load_policy_book
from divert_intake.domain.reasons import SCREENING_REASON, Basis

BOOK = load_policy_book()
EVERY_VERSION = [version for jurisdiction in BOOK.ids() for version in BOOK.versions(jurisdiction)]

# Categories and drug types the policies name, mixed with arbitrary text, so that both the known
# paths (limits, exceptions) and the unknown ones are exercised.
CATEGORIES = sorted({rule.category for p in EVERY_VERSION for rule in (*p.offenses, *p.excluded_offense_categories)})
DRUG_TYPES = sorted(
    {kind for p in EVERY_VERSION for rule in p.offenses for kind in (*rule.drug_types, *rule.drug_types_without_limit)}
)
CONVICTION_CATEGORIES = sorted({c for p in EVERY_VERSION if p.convictions for c in p.convictions.categories})

offenses = st.builds(
    Offense,
    category=st.sampled_from(CATEGORIES) | st.text(max_size=20),
    statute=st.none() | st.text(max_size=10),
    drug_quantity_grams=st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),  # as the API admits
    drug_type=st.none() | st.sampled_from([*DRUG_TYPES, "opioid"]) | st.text(max_size=10),
)
prior_convictions = st.builds(
    PriorConviction,
    category=st.sampled_from(CONVICTION_CATEGORIES) | st.text(max_size=10),
    convicted_on=st.dates(),
    released_on=st.none() | st.dates(),
)
screenings = st.builds(
    Screening,
    amenable=st.booleans(),
    dealing_for_profit=st.booleans(),
    exploits_minors=st.booleans(),
    promotes_prostitution=st.booleans(),
    disqualifying_convictions=st.lists(st.text(max_size=10), max_size=3).map(tuple),
    prior_convictions=st.lists(prior_convictions, max_size=3).map(tuple),
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
        "drug_type_not_eligible",
        "under_minimum_age",
        "no_qualifying_contact_driver",
        "no_recent_documented_involvement",
        "disqualifying_conviction",
    }
    known = built_in | {rule.code for rule in policy.exclusions}
    assert {reason.code for reason in decide(policy, given_facts).reasons} <= known


class ReadScreening(Exception):
    """A rule looked at a screening answer."""


class Untouchable:
    """Stands in for the screening answers: any look at them raises."""

    def __getattr__(self, name: str) -> NoReturn:
        raise ReadScreening(name)


@given(policy=st.sampled_from(EVERY_VERSION), given_facts=facts)
def test_a_rule_that_reads_screening_answers_gives_only_screening_reasons(
    policy: JurisdictionPolicy, given_facts: EligibilityFacts
) -> None:
    blind = replace(given_facts, screening=Untouchable())
    for rule in RULES:
        reasons = list(rule(policy, given_facts))
        try:
            list(rule(policy, blind))
        except ReadScreening:
            assert all(reason.basis is Basis.SCREENING for reason in reasons), (rule.__name__, reasons)


@given(policy=st.sampled_from(EVERY_VERSION), given_facts=facts)
def test_what_is_kept_of_a_decision_has_no_screening_reason_but_the_neutral_one(
    policy: JurisdictionPolicy, given_facts: EligibilityFacts
) -> None:
    decision = decide(policy, given_facts)
    kept = decision.kept
    assert (kept.eligible, kept.policy, kept.policy_version) == (
        decision.eligible,
        decision.policy,
        decision.policy_version,
    )
    offense = [reason for reason in decision.reasons if reason.basis is Basis.OFFENSE]
    screened_out = len(offense) < len(decision.reasons)
    assert list(kept.reasons) == offense + ([SCREENING_REASON] if screened_out else [])
    assert kept.eligible is (not kept.reasons)  # a decline is never left without a reason
