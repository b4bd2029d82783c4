"""Prior convictions computed by category and date (`domain/convictions.py`), and what a submission
must give for its version to judge them (`policy_for`)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.convictions import counts_from, disqualifies, screening_problem, years_before
from divert_intake.domain.facts import Offense, PriorConviction, Screening
from divert_intake.domain.policy import ConvictionRules, JurisdictionPolicy, load_policy_book
from divert_intake.domain.referral import InvalidReferral, Referral, policy_for

BOOK = load_policy_book()
RULES = ConvictionRules(within_years=10, any_time=("murder",), within=("burglary",), other=("theft",))
REFERRED_ON = date(2026, 12, 6)
# Noon in Seattle the day before the version of 2026-12-06, whose approval gate would hold the
# decision for an approver (test_intake_approvals.py): these tests read the rules' own decision.
NOW = datetime(2026, 12, 5, 20, tzinfo=UTC)
CLEAN = Screening(
    amenable=True,
    dealing_for_profit=False,
    exploits_minors=False,
    promotes_prostitution=False,
    on_state_probation=False,
    in_treatment_court=False,
    no_contact_order_with_participant=False,
)


def conviction(category: str, convicted_on: date, released_on: date | None = None) -> PriorConviction:
    return PriorConviction(category=category, convicted_on=convicted_on, released_on=released_on)


def version(jurisdiction: str, name: str) -> JurisdictionPolicy:
    found = BOOK.version(jurisdiction, name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2026, 12, 6), 10, date(2016, 12, 6)),
        (date(2028, 2, 29), 10, date(2018, 2, 28)),  # 29 February in a common year: the 28th
        (date(2028, 2, 29), 4, date(2024, 2, 29)),  # ... and itself in a leap year
        (date(2026, 3, 1), 10, date(2016, 3, 1)),
        (date(5, 6, 1), 10, date.min),  # before year 1: the earliest date stands in
    ],
)
def test_years_are_counted_on_the_calendar(day: date, years: int, expected: date) -> None:
    assert years_before(day, years) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (conviction("murder", date(1970, 1, 1)), True),  # any time: however long ago
        (conviction("burglary", date(2016, 12, 6)), True),  # exactly 10 years before: still within
        (conviction("burglary", date(2016, 12, 5)), False),  # a day earlier: outside
        (conviction("burglary", date(2005, 1, 1), released_on=date(2017, 1, 1)), True),  # counted from release
        (conviction("burglary", date(2005, 1, 1), released_on=date(2015, 1, 1)), False),
        (conviction("theft", date(2026, 1, 1)), False),  # accepted, never disqualifies
        (conviction("unheard_of", date(2026, 1, 1)), False),  # the API refuses it; the rule stays total
    ],
)
def test_a_conviction_disqualifies_at_any_time_or_within_the_look_back(given: PriorConviction, expected: bool) -> None:
    assert disqualifies(RULES, given, REFERRED_ON) is expected


def test_the_look_back_counts_from_the_later_of_conviction_and_release() -> None:
    assert counts_from(conviction("burglary", date(2010, 5, 1))) == date(2010, 5, 1)
    assert counts_from(conviction("burglary", date(2010, 5, 1), released_on=date(2014, 2, 1))) == date(2014, 2, 1)


def test_29_february_look_back_ends_on_28_february() -> None:
    referred_on = date(2028, 2, 29)
    assert disqualifies(RULES, conviction("burglary", date(2018, 2, 28)), referred_on)
    assert not disqualifies(RULES, conviction("burglary", date(2018, 2, 27)), referred_on)


def screening(**answers: Any) -> Screening:
    return CLEAN.model_copy(update=answers)


KING_COUNTY_COMPUTED = version("king-county", "2026-12-01")
KING_COUNTY_LEGACY = version("king-county", "2026-01-01")
ALBANY_BY_DRIVERS = version("albany", "2026-12-01")


@pytest.mark.parametrize(
    ("policy", "given", "field"),
    [
        (KING_COUNTY_COMPUTED, screening(), None),
        (KING_COUNTY_COMPUTED, screening(prior_convictions=(conviction("robbery", date(2001, 1, 1)),)), None),
        (
            KING_COUNTY_COMPUTED,
            screening(disqualifying_convictions=("robbery",)),
            "screening.disqualifying_convictions",
        ),
        (
            KING_COUNTY_COMPUTED,
            screening(prior_convictions=(conviction("theft", date(2020, 1, 1)), conviction("jaywalking", REFERRED_ON))),
            "screening.prior_convictions.1.category",
        ),
        (
            KING_COUNTY_COMPUTED,
            screening(prior_convictions=(conviction("theft", REFERRED_ON + timedelta(days=1)),)),
            "screening.prior_convictions.0.convicted_on",
        ),
        (
            KING_COUNTY_COMPUTED,
            screening(prior_convictions=(conviction("theft", date(2020, 1, 1), REFERRED_ON + timedelta(days=1)),)),
            "screening.prior_convictions.0.released_on",
        ),
        (
            KING_COUNTY_COMPUTED,
            screening(prior_convictions=(conviction("theft", date(2020, 1, 1), date(2019, 12, 31)),)),
            "screening.prior_convictions.0.released_on",
        ),
        (KING_COUNTY_LEGACY, screening(disqualifying_convictions=("robbery",)), None),
        (
            KING_COUNTY_LEGACY,
            screening(prior_convictions=(conviction("robbery", date(2001, 1, 1)),)),
            "screening.prior_convictions",
        ),
        # Albany's 2026-12-01 version reads no convictions at all: a list is refused, not ignored.
        (ALBANY_BY_DRIVERS, screening(disqualifying_convictions=("assault",)), "screening.disqualifying_convictions"),
        (ALBANY_BY_DRIVERS, screening(), None),
    ],
)
def test_what_a_version_cannot_judge_is_named_by_its_field(
    policy: JurisdictionPolicy, given: Screening, field: str | None
) -> None:
    problem = screening_problem(policy, given, REFERRED_ON)
    assert (problem.field if problem else None) == field


def test_an_unknown_category_is_refused_listing_the_accepted_ones_but_not_the_one_given() -> None:
    given = screening(prior_convictions=(conviction("ZZ-SECRET-CATEGORY", date(2020, 1, 1)),))
    problem = screening_problem(KING_COUNTY_COMPUTED, given, REFERRED_ON)
    assert problem is not None
    assert KING_COUNTY_COMPUTED.convictions is not None
    assert all(category in problem.message for category in KING_COUNTY_COMPUTED.convictions.categories)
    assert "ZZ-SECRET-CATEGORY" not in problem.message


def submission(**changes: Any) -> SubmitReferral:
    """An SPD officer's eligible King County arrest diversion, referred on 2026-12-05."""
    command = SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=NOW - timedelta(hours=1),
        rms=RmsReference(agency="SPD", case_number="K-1", officer_id="7781"),
        subject=Subject(given_name="Jordan", family_name="Doe", date_of_birth=date(1988, 4, 2)),
        location=Location(precinct="West"),
        offense=Offense(category="theft_low_level"),
        screening=CLEAN,
        contact_drivers=("drug_use",),
        at=NOW,
    )
    return replace(command, **changes)


def decided(command: SubmitReferral) -> tuple[str, list[str]]:
    referral = Referral.submit(command, policy_for(command, BOOK))
    told = referral.decision_told
    assert told is not None
    return told.policy_version, [reason.code for reason in told.reasons]


def test_a_computed_conviction_declines_and_is_kept_as_screening() -> None:
    command = submission(screening=screening(prior_convictions=(conviction("burglary", date(2019, 5, 1)),)))
    referral = Referral.submit(command, policy_for(command, BOOK))
    assert referral.decision_told is not None and referral.decision is not None
    assert [r.code for r in referral.decision_told.reasons] == ["disqualifying_conviction"]
    assert [r.code for r in referral.decision.reasons] == ["screening"]
    [declined] = referral.pending
    assert "burglary" not in declined.model_dump_json() and "2019-05-01" not in declined.model_dump_json()


def test_a_conviction_outside_the_look_back_or_never_disqualifying_is_accepted() -> None:
    old = (conviction("burglary", date(2010, 5, 1), released_on=date(2012, 1, 1)), conviction("dui", date(2024, 3, 3)))
    assert decided(submission(screening=screening(prior_convictions=old))) == ("2026-12-01", [])


def test_a_back_dated_referral_is_still_judged_by_the_legacy_list_of_its_version() -> None:
    back_dated = datetime(2026, 6, 1, 19, tzinfo=UTC)
    legacy = screening(disqualifying_convictions=("robbery",))
    assert decided(submission(referred_at=back_dated, screening=legacy)) == (
        "2026-01-01",
        ["disqualifying_conviction"],
    )
    assert decided(submission(referred_at=back_dated)) == ("2026-01-01", [])
    # the same list sent for today is refused: this version computes convictions
    with pytest.raises(InvalidReferral) as refused:
        policy_for(submission(screening=legacy), BOOK)
    assert refused.value.field == "screening.disqualifying_convictions"


def test_the_referral_date_is_read_in_the_jurisdictions_zone() -> None:
    # 03:00 UTC on 7 December is still 6 December in Seattle: a conviction on the 7th is after it.
    late_evening = datetime(2026, 12, 7, 3, tzinfo=UTC)
    tomorrow = screening(prior_convictions=(conviction("theft", date(2026, 12, 7)),))
    with pytest.raises(InvalidReferral) as refused:
        policy_for(submission(referred_at=late_evening, at=late_evening, screening=tomorrow), BOOK)
    assert refused.value.field == "screening.prior_convictions.0.convicted_on"
