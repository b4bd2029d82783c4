"""What each reason rests on (`domain/reasons.py`): every code a shipped policy can give is
classified as expected and exercised here. (That a rule reading screening answers gives only
screening reasons, and that the kept decision has none, are properties in
`test_intake_eligibility_properties.py`.)"""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from divert_intake.domain.eligibility import decide
from divert_intake.domain.facts import EligibilityFacts, Offense, PriorConviction, Screening
from divert_intake.domain.policy import JurisdictionPolicy, load_policy_book
from divert_intake.domain.reasons import BUILT_IN_REASONS, SCREENING_REASON, Basis, Reason, as_kept, exclusion, stored

BOOK = load_policy_book()
EVERY_VERSION = [version for jurisdiction in BOOK.ids() for version in BOOK.versions(jurisdiction)]
REFERRED_ON = date(2026, 11, 30)
COMPUTED = date(2026, 12, 6)  # the versions of 2026-12-01, which compute convictions and restrict drug types
CLEAN = Screening(
    amenable=True,
    dealing_for_profit=False,
    exploits_minors=False,
    promotes_prostitution=False,
    disqualifying_convictions=(),
    on_state_probation=False,
    in_treatment_court=False,
    no_contact_order_with_participant=False,
    prior_involvement_documented_on=date(2026, 1, 15),
)
# Every way a shipped policy can fail a referral, on a policy that has the rule. The expected
# basis is written out here, apart from `reasons.py`, so that reclassifying a code is a decision
# a reviewer sees in two places.
OFFENSE = Basis.OFFENSE
SCREENING = Basis.SCREENING
FAILURES: list[tuple[str, dict[str, Any], str, Basis]] = [
    ("santa-fe", {"pathway": "social_contact", "offense": None}, "pathway_not_accepted", OFFENSE),
    ("king-county", {"offense": Offense(category="burglary")}, "offense_not_eligible", OFFENSE),
    (
        "king-county",
        {"offense": Offense(category="drug_possession", drug_quantity_grams=3.5)},
        "drug_quantity_over_limit",
        OFFENSE,
    ),
    ("santa-fe", {"age": 17}, "under_minimum_age", OFFENSE),
    ("albany", {"contact_drivers": ()}, "no_qualifying_contact_driver", OFFENSE),
    (
        "king-county",
        {"pathway": "social_contact", "offense": None, "prior_involvement_documented_on": None},
        "no_recent_documented_involvement",
        SCREENING,
    ),
    ("king-county", {"amenable": False}, "not_amenable", SCREENING),
    ("king-county", {"dealing_for_profit": True}, "dealing_for_profit", SCREENING),
    ("king-county", {"exploits_minors": True}, "exploits_minors", SCREENING),
    ("king-county", {"promotes_prostitution": True}, "promotes_prostitution", SCREENING),
    ("king-county", {"disqualifying_convictions": ("robbery",)}, "disqualifying_conviction", SCREENING),
    (
        "santa-fe",
        {
            "referred_on": COMPUTED,
            "offense": Offense(category="drug_possession", drug_quantity_grams=1, drug_type="methamphetamine"),
        },
        "drug_type_not_eligible",
        OFFENSE,
    ),
    (
        "king-county",
        {
            "referred_on": COMPUTED,
            "prior_convictions": (PriorConviction(category="rape", convicted_on=date(1990, 1, 1)),),
        },
        "disqualifying_conviction",
        SCREENING,
    ),
    ("santa-fe", {"on_state_probation": True}, "on_state_probation", SCREENING),
    (
        "albany",
        {"pathway": "social_contact", "offense": None, "in_treatment_court": True},
        "in_treatment_court",
        SCREENING,
    ),
    (
        "king-county",
        {"pathway": "social_contact", "offense": None, "no_contact_order_with_participant": True},
        "no_contact_order_with_participant",
        SCREENING,
    ),
]


def failing(jurisdiction: str, changes: dict[str, Any]) -> tuple[JurisdictionPolicy, EligibilityFacts]:
    policy = BOOK.effective(jurisdiction, changes.get("referred_on", REFERRED_ON))
    assert policy is not None
    screening = CLEAN.model_copy(update={k: v for k, v in changes.items() if k in Screening.model_fields})
    given = EligibilityFacts(
        pathway="arrest_diversion",
        referred_on=REFERRED_ON,
        offense=Offense(category="theft_low_level"),
        screening=screening,
        age=35,
        contact_drivers=("drug_use",),
    )
    return policy, replace(given, **{k: v for k, v in changes.items() if k not in Screening.model_fields})


@pytest.mark.parametrize(
    ("jurisdiction", "changes", "code", "basis"), FAILURES, ids=[f"{f[0]}-{f[2]}" for f in FAILURES]
)
def test_each_way_to_fail_gives_one_reason_classified_as_expected(
    jurisdiction: str, changes: dict[str, Any], code: str, basis: Basis
) -> None:
    decision = decide(*failing(jurisdiction, changes))
    assert [(reason.code, reason.basis) for reason in decision.reasons] == [(code, basis)]


def test_every_code_a_shipped_policy_can_give_is_classified_and_exercised_above() -> None:
    can_give = set(BUILT_IN_REASONS) | {rule.code for policy in EVERY_VERSION for rule in policy.exclusions}
    assert can_give == {code for _, _, code, _ in FAILURES}
    assert {code for code, basis in BUILT_IN_REASONS.items() if basis is OFFENSE} == {
        code for _, _, code, basis in FAILURES if basis is OFFENSE
    }


def test_a_stored_code_rests_on_the_offense_only_when_it_is_a_built_in_offense_code() -> None:
    assert stored("drug_quantity_over_limit", "More than 3 g of drugs.").basis is OFFENSE
    for code in ("on_state_probation", "no_recent_documented_involvement", "screening", "unheard_of"):
        assert stored(code, "a sentence").basis is SCREENING
    assert as_kept([stored("on_state_probation", "x"), stored("screening", "y")]) == (SCREENING_REASON,)


def test_the_screening_code_is_reserved_and_its_sentence_names_no_fact() -> None:
    demo = BOOK.latest("demo")
    assert demo is not None
    taking_it = demo.model_dump()
    taking_it["exclusions"] = [{**taking_it["exclusions"][0], "code": SCREENING_REASON.code}]
    with pytest.raises(ValueError, match="reserved"):
        JurisdictionPolicy.model_validate(taking_it)
    facts_named = [*Screening.model_fields, "probation", "conviction", "court", "order", "dealing", "minors"]
    assert not [word for word in facts_named if word in SCREENING_REASON.message.lower()]
    assert exclusion("on_state_probation", "…") == Reason("on_state_probation", "…", SCREENING)
