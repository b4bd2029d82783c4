"""Eligibility, table by table: each jurisdiction's rules, each edge, every failing rule reported."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from divert_intake.domain.eligibility import decide
from divert_intake.domain.eligibility_rules import months_before
from divert_intake.domain.facts import EligibilityFacts, Offense, PriorConviction, Screening
from divert_intake.domain.policy import JurisdictionPolicy, OffenseRule, load_policy_book

BOOK = load_policy_book()
REFERRED_ON = date(2026, 11, 30)
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
CLEAN_SOCIAL = CLEAN.model_copy(update={"prior_involvement_documented_on": date(2026, 1, 15)})


def policy(jurisdiction: str) -> JurisdictionPolicy:
    found = BOOK.effective(jurisdiction, REFERRED_ON)
    assert found is not None
    return found


def facts(
    *,
    pathway: Any = "arrest_diversion",
    offense: Offense | None = None,
    screening: Screening = CLEAN,
    age: int | None = 35,
    drivers: tuple[str, ...] = ("drug_use",),
) -> EligibilityFacts:
    if offense is None and pathway == "arrest_diversion":
        offense = Offense(category="theft_low_level")
    return EligibilityFacts(pathway, REFERRED_ON, offense, screening, age, drivers)


def codes(jurisdiction: str, given: EligibilityFacts) -> list[str]:
    decision = decide(policy(jurisdiction), given)
    assert decision.eligible is (not decision.reasons)
    return [reason.code for reason in decision.reasons]


def drugs(grams: float, drug_type: str = "opioid", category: str = "drug_possession") -> Offense:
    return Offense(category=category, drug_quantity_grams=grams, drug_type=drug_type)


def screened(**answers: Any) -> Screening:
    return CLEAN.model_copy(update=answers)


# Every shipped exclusion, by the screening answer that triggers it.
EXCLUSIONS = [
    ("king-county", {"amenable": False}, "not_amenable"),
    ("king-county", {"dealing_for_profit": True}, "dealing_for_profit"),
    ("king-county", {"exploits_minors": True}, "exploits_minors"),
    ("king-county", {"promotes_prostitution": True}, "promotes_prostitution"),
    ("king-county", {"disqualifying_convictions": ("robbery",)}, "disqualifying_conviction"),
    ("santa-fe", {"amenable": False}, "not_amenable"),
    ("santa-fe", {"dealing_for_profit": True}, "dealing_for_profit"),
    ("santa-fe", {"exploits_minors": True}, "exploits_minors"),
    ("santa-fe", {"promotes_prostitution": True}, "promotes_prostitution"),
    ("santa-fe", {"disqualifying_convictions": ("armed robbery",)}, "disqualifying_conviction"),
    ("santa-fe", {"on_state_probation": True}, "on_state_probation"),
    ("albany", {"exploits_minors": True}, "exploits_minors"),
    ("albany", {"disqualifying_convictions": ("assault 1st",)}, "disqualifying_conviction"),
]


@pytest.mark.parametrize(("jurisdiction", "answers", "code"), EXCLUSIONS)
def test_each_exclusion_reports_its_code(jurisdiction: str, answers: dict[str, Any], code: str) -> None:
    assert codes(jurisdiction, facts(screening=screened(**answers))) == [code]


@pytest.mark.parametrize("jurisdiction", ["king-county", "santa-fe", "albany", "demo"])
def test_a_clean_arrest_diversion_is_eligible_and_names_the_policy_version(jurisdiction: str) -> None:
    decision = decide(policy(jurisdiction), facts())
    assert decision.eligible and decision.reasons == ()
    assert (decision.policy, decision.policy_version) == (jurisdiction, "2026-01-01")


@pytest.mark.parametrize(
    ("jurisdiction", "offense", "expected"),
    [
        ("king-county", drugs(3.0), []),
        ("king-county", drugs(3.01), ["drug_quantity_over_limit"]),
        ("king-county", drugs(3.01, category="drug_delivery_subsistence"), ["drug_quantity_over_limit"]),
        ("king-county", drugs(50, drug_type="prescription_opioid_pills"), ["drug_quantity_over_limit"]),
        ("santa-fe", drugs(6.0), []),
        ("santa-fe", drugs(6.01), ["drug_quantity_over_limit"]),
        ("santa-fe", drugs(6.01, category="drug_delivery_subsistence"), ["drug_quantity_over_limit"]),
        ("santa-fe", drugs(50, drug_type="prescription_opioid_pills"), []),
        ("albany", drugs(500), []),  # Albany sets no gram limit
        # the rules never see a limited offense without its quantity: submission refuses it first
        # (test_intake_handlers: "offense.drug_quantity_grams"); unlimited categories need none
        ("albany", Offense(category="drug_possession"), []),
        ("king-county", Offense(category="burglary"), ["offense_not_eligible"]),
        ("santa-fe", Offense(category="trespass"), ["offense_not_eligible"]),
        ("albany", Offense(category="mental_health_crisis"), []),
    ],
)
def test_offense_and_quantity_edges(jurisdiction: str, offense: Offense, expected: list[str]) -> None:
    assert codes(jurisdiction, facts(offense=offense)) == expected


def test_a_referral_dated_2025_is_decided_by_and_cites_the_2025_version() -> None:
    older = BOOK.effective("king-county", date(2025, 12, 31))
    assert older is not None and older.version == "2025-01-01"
    given = replace(facts(offense=drugs(3.5)), referred_on=date(2025, 12, 31))
    decision = decide(older, given)
    assert (decision.policy_version, [r.code for r in decision.reasons]) == ("2025-01-01", ["drug_quantity_over_limit"])


@pytest.mark.parametrize(
    ("jurisdiction", "pathway", "accepted"),
    [
        ("king-county", "arrest_diversion", True),
        ("king-county", "social_contact", True),
        ("king-county", "community", False),
        ("santa-fe", "arrest_diversion", True),
        ("santa-fe", "social_contact", False),
        ("santa-fe", "community", False),
        ("albany", "arrest_diversion", True),
        ("albany", "social_contact", True),
        ("albany", "community", False),
        ("demo", "community", True),
    ],
)
def test_each_pathway_is_accepted_or_reported(jurisdiction: str, pathway: str, accepted: bool) -> None:
    found = codes(jurisdiction, facts(pathway=pathway, screening=CLEAN_SOCIAL))
    assert found == ([] if accepted else ["pathway_not_accepted"])


@pytest.mark.parametrize(("age", "expected"), [(17, ["under_minimum_age"]), (18, []), (None, [])])
def test_santa_fe_diverts_adults_only(age: int | None, expected: list[str]) -> None:
    # `age` is whole years on the referral date, so 18 means the 18th birthday is today or earlier.
    assert codes("santa-fe", facts(age=age)) == expected


@pytest.mark.parametrize("jurisdiction", ["king-county", "albany"])
def test_no_minimum_age_unless_the_policy_sets_one(jurisdiction: str) -> None:
    assert codes(jurisdiction, facts(age=16)) == []


@pytest.mark.parametrize(
    ("jurisdiction", "drivers", "expected"),
    [
        ("albany", ("drug_use",), []),
        ("albany", ("mental_illness", "poverty"), []),
        ("albany", (), ["no_qualifying_contact_driver"]),
        ("king-county", (), []),
        ("santa-fe", (), []),
    ],
)
def test_albany_needs_a_contact_driven_by_need(
    jurisdiction: str, drivers: tuple[str, ...], expected: list[str]
) -> None:
    assert codes(jurisdiction, facts(drivers=drivers)) == expected


@pytest.mark.parametrize("jurisdiction", ["king-county", "albany", "demo"])
@pytest.mark.parametrize(
    ("documented_on", "expected"),
    [
        (date(2024, 12, 30), []),  # 23 months before 2026-11-30
        (date(2024, 11, 30), []),  # exactly 24 months: still within
        (date(2024, 11, 29), ["no_recent_documented_involvement"]),
        (date(2024, 10, 30), ["no_recent_documented_involvement"]),  # 25 months
        (None, ["no_recent_documented_involvement"]),
        (date(2026, 12, 1), ["no_recent_documented_involvement"]),  # after the referral: not documented then
    ],
)
def test_social_contact_needs_involvement_within_24_months(
    jurisdiction: str, documented_on: date | None, expected: list[str]
) -> None:
    screening = screened(prior_involvement_documented_on=documented_on)
    assert codes(jurisdiction, facts(pathway="social_contact", screening=screening)) == expected


def test_the_look_back_is_not_asked_of_arrest_diversions() -> None:
    assert codes("king-county", facts(screening=CLEAN)) == []


@pytest.mark.parametrize("jurisdiction", ["king-county", "albany"])
@pytest.mark.parametrize("answer", ["in_treatment_court", "no_contact_order_with_participant"])
def test_exclusions_scoped_to_social_contact(jurisdiction: str, answer: str) -> None:
    screening = CLEAN_SOCIAL.model_copy(update={answer: True})
    assert codes(jurisdiction, facts(pathway="social_contact", screening=screening)) == [answer]
    assert codes(jurisdiction, facts(pathway="arrest_diversion", screening=screening)) == []


def test_every_failing_rule_is_reported_together() -> None:
    screening = screened(amenable=False, on_state_probation=True, disqualifying_convictions=("robbery",))
    given = facts(pathway="community", offense=drugs(7), screening=screening, age=16)
    decision = decide(policy("santa-fe"), given)
    assert not decision.eligible
    assert [r.code for r in decision.reasons] == [
        "pathway_not_accepted",
        "drug_quantity_over_limit",
        "under_minimum_age",
        "not_amenable",
        "disqualifying_conviction",
        "on_state_probation",
    ]
    assert all(r.message for r in decision.reasons)


def test_social_contact_failures_are_reported_together() -> None:
    screening = screened(in_treatment_court=True, no_contact_order_with_participant=True, exploits_minors=True)
    given = facts(pathway="social_contact", offense=Offense(category="burglary"), screening=screening, drivers=())
    assert codes("albany", given) == [
        "offense_not_eligible",
        "no_qualifying_contact_driver",
        "no_recent_documented_involvement",
        "exploits_minors",
        "in_treatment_court",
        "no_contact_order_with_participant",
    ]


def test_messages_never_carry_the_facts() -> None:
    # Reasons are stored and shown; they must not leak the offense or the screening answers.
    screening = screened(disqualifying_convictions=("robbery 1998",))
    given = facts(pathway="community", offense=Offense(category="secret-category"), screening=screening)
    text = " ".join(r.message for r in decide(policy("king-county"), given).reasons)
    assert "robbery 1998" not in text and "secret-category" not in text and "community" not in text


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 30), 24, date(2024, 11, 30)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(1, 6, 1), 24, date.min),
    ],
)
def test_calendar_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


# The versions of 2026-12-01: Santa Fe's opioids only and social contacts, Albany's contact drivers,
# King County's computed convictions (test_intake_convictions.py has the look-back's edges).
FROM_DECEMBER = date(2026, 12, 6)


def codes_from_december(jurisdiction: str, given: EligibilityFacts) -> list[str]:
    # The version of 2026-12-01 itself: King County's and Santa Fe's of 2026-12-06 add only an
    # approval gate (test_intake_policies.py), which decide() leaves to the approver.
    policy = BOOK.version(jurisdiction, "2026-12-01")
    decision = decide(policy, replace(given, referred_on=FROM_DECEMBER))
    assert decision.eligible is (not decision.reasons)
    return [reason.code for reason in decision.reasons]


@pytest.mark.parametrize(
    ("offense", "expected"),
    [
        (drugs(6.0, drug_type="heroin"), []),
        (drugs(1.0, drug_type="fentanyl", category="drug_delivery_subsistence"), []),
        (drugs(50, drug_type="prescription_opioid_pills"), []),  # pills: no gram limit
        (drugs(6.01, drug_type="heroin"), ["drug_quantity_over_limit"]),
        (drugs(1.0, drug_type="methamphetamine"), ["drug_type_not_eligible"]),
        (drugs(7.0, drug_type="cocaine"), ["drug_type_not_eligible", "drug_quantity_over_limit"]),
        (Offense(category="drug_possession", drug_type="methamphetamine"), ["drug_type_not_eligible"]),
        (Offense(category="paraphernalia"), []),  # no drug types of its own
        (Offense(category="trespass"), ["offense_not_eligible"]),
    ],
)
def test_santa_fe_diverts_opioid_drug_offenses_only(offense: Offense, expected: list[str]) -> None:
    assert codes_from_december("santa-fe", facts(offense=offense)) == expected


def test_the_drug_type_message_names_the_policys_types_only() -> None:
    policy = BOOK.effective("santa-fe", FROM_DECEMBER)
    assert policy is not None
    [reason] = decide(
        policy, replace(facts(offense=drugs(1.0, drug_type="ZZ-SECRET")), referred_on=FROM_DECEMBER)
    ).reasons
    assert reason.message == (
        "Santa Fe LEAD diverts drug_possession only for heroin, fentanyl, opioid, prescription_opioid_pills."
    )


def test_santa_fe_takes_social_contacts_from_december() -> None:
    social = facts(pathway="social_contact", screening=CLEAN_SOCIAL)
    assert codes("santa-fe", social) == ["pathway_not_accepted"]  # the 2026-01-01 version
    assert codes_from_december("santa-fe", social) == []
    stale = facts(pathway="social_contact", screening=screened(prior_involvement_documented_on=date(2024, 12, 5)))
    assert codes_from_december("santa-fe", stale) == ["no_recent_documented_involvement"]


@pytest.mark.parametrize(
    ("offense", "drivers", "expected"),
    [
        (Offense(category="burglary"), ("poverty",), []),  # no list of offenses: the driver decides
        (Offense(category="shoplifting"), ("mental_illness",), []),
        (Offense(category="violent_felony"), ("drug_use",), ["offense_not_eligible"]),
        (Offense(category="sex_offense"), ("drug_use",), ["offense_not_eligible"]),
        (Offense(category="exploitation_of_minors"), ("poverty",), ["offense_not_eligible"]),
        (Offense(category="burglary"), (), ["offense_not_eligible", "no_qualifying_contact_driver"]),
    ],
)
def test_albany_decides_by_what_drove_the_contact(
    offense: Offense, drivers: tuple[str, ...], expected: list[str]
) -> None:
    assert codes_from_december("albany", facts(offense=offense, drivers=drivers)) == expected


def test_a_listed_offense_keeps_its_own_rule_beside_the_drivers() -> None:
    albany = BOOK.effective("albany", FROM_DECEMBER)
    assert albany is not None
    limited = albany.model_copy(update={"offenses": (OffenseRule(category="drug_possession", max_drug_grams=2.0),)})
    over = replace(facts(offense=drugs(2.5)), referred_on=FROM_DECEMBER)
    assert [r.code for r in decide(limited, over).reasons] == ["drug_quantity_over_limit"]
    assert [r.code for r in decide(albany, over).reasons] == []


@pytest.mark.parametrize(
    ("convictions", "expected"),
    [
        ((), []),
        (
            (PriorConviction(category="assault_with_weapon", convicted_on=date(1995, 3, 1)),),
            ["disqualifying_conviction"],
        ),
        ((PriorConviction(category="domestic_violence", convicted_on=date(2017, 1, 1)),), ["disqualifying_conviction"]),
        ((PriorConviction(category="domestic_violence", convicted_on=date(2016, 12, 5)),), []),  # 10 years and a day
        ((PriorConviction(category="sex_work", convicted_on=date(2026, 1, 1)),), []),
    ],
)
def test_king_county_computes_its_look_back(convictions: tuple[PriorConviction, ...], expected: list[str]) -> None:
    given = facts(screening=screened(prior_convictions=convictions))
    assert codes_from_december("king-county", given) == expected
    # the 2026-01-01 version never reads them (a submission giving them is refused: test_intake_convictions.py)
    assert codes("king-county", given) == []
