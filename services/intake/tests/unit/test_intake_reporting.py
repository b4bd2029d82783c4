"""The referral funnel's counting and grouping (domain/reporting.py), and the case opening a referral
notes for it: plain values, no database."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from divert_intake.domain import events
from divert_intake.domain.approvals import APPROVAL_DENIED, APPROVAL_TIMED_OUT
from divert_intake.domain.referral import Referral
from divert_intake.domain.reporting import (
    Counts,
    DeclineKind,
    Rate,
    ReferralOutcome,
    days_left,
    decline_kind,
    rates,
    tally,
)

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MARCH = datetime(2026, 3, 10, 18, tzinfo=UTC)


def outcome(**changes: object) -> ReferralOutcome:
    values: dict[str, object] = {"referred_at": MARCH, "pathway": "arrest_diversion", "status": "accepted"}
    return ReferralOutcome(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("codes", "kind"),
    [
        (["offense_not_eligible", "screening"], DeclineKind.INELIGIBLE),
        ([], DeclineKind.INELIGIBLE),
        (["screening", APPROVAL_DENIED], DeclineKind.APPROVAL_DENIED),
        ([APPROVAL_TIMED_OUT], DeclineKind.APPROVAL_TIMED_OUT),
        (["drug_quantity_over_limit", APPROVAL_TIMED_OUT], DeclineKind.APPROVAL_TIMED_OUT),
    ],
)
def test_a_declines_kind_is_the_gates_code_or_else_the_rules(codes: list[str], kind: DeclineKind) -> None:
    assert decline_kind(codes) is kind


def test_each_referral_counts_in_every_stage_it_reached() -> None:
    counts = Counts()
    for each in (
        outcome(accepted=True, case_opened=True, assessed_on_time=True, enrolled=True, closed=True),
        outcome(accepted=True, lapsed=True, warrant_requested=True, warrant_rescinded=True, status="lapsed"),
        outcome(accepted=True, assessed_on_time=False, status="assessed"),
        outcome(pathway="social_contact", accepted=True, assessed_on_time=True, status="withdrawn"),
        outcome(status="declined", decline=DeclineKind.APPROVAL_DENIED),
        outcome(status="pending_approval"),
    ):
        counts.add(each)
    assert counts.as_dict() == {
        "referred": 6,
        "pending_approval": 1,
        "accepted": 4,
        "declined": {DeclineKind.INELIGIBLE: 0, DeclineKind.APPROVAL_DENIED: 1, DeclineKind.APPROVAL_TIMED_OUT: 0},
        "withdrawn": 1,
        "arrest_diversions": 3,
        "case_opened": 1,
        "assessed_on_time": 2,
        "assessed_late": 1,
        "arrest_diversions_assessed_on_time": 1,  # the social contact's is no arrest diversion's
        "enrolled": 1,
        "closed": 1,
        "lapsed": 1,
        "warrant_requested": 1,
        "warrant_rescinded": 1,
    }


def test_rates_are_shares_of_their_denominators_rounded_to_one_decimal_and_none_of_nothing() -> None:
    counts = Counts(accepted=3, enrolled=2, arrest_diversions=0, warrant_requested=0)
    shares = rates(counts)
    assert (shares["enrolled_of_accepted"].count, shares["enrolled_of_accepted"].percent) == (2, 66.7)
    assert shares["lapsed_of_arrest_diversions"].percent is None
    assert shares["warrant_rescinded_of_warrant_requested"].percent is None
    assert Rate(1, 8).percent == 12.5


def test_months_are_the_jurisdictions_and_unknown_keys_sort_last() -> None:
    end_of_march_in_seattle = datetime(2026, 4, 1, 6, 30, tzinfo=UTC)  # 23:30 on March 31 there
    referrals = [
        outcome(referred_at=end_of_march_in_seattle, precinct=None),
        outcome(referred_at=datetime(2026, 4, 2, tzinfo=UTC), precinct="West"),
        outcome(precinct="East"),
    ]
    total, by_month = tally(referrals, "month", LOS_ANGELES)
    assert total.referred == 3
    assert [(key, counts.referred) for key, counts in by_month] == [("2026-03", 2), ("2026-04", 1)]
    _, by_precinct = tally(referrals, "precinct", LOS_ANGELES)
    assert [key for key, _ in by_precinct] == ["East", "West", None]
    _, by_utc_month = tally(referrals, "month", ZoneInfo("UTC"))
    assert [key for key, _ in by_utc_month] == ["2026-03", "2026-04"]
    assert [counts.referred for _, counts in by_utc_month] == [1, 2]


@pytest.mark.parametrize(
    ("due_in", "days"),
    [(timedelta(hours=1), 0), (timedelta(days=6, hours=23), 6), (timedelta(days=7), 7), (-timedelta(hours=1), -1)],
)
def test_days_left_are_whole_days_rounded_down(due_in: timedelta, days: int) -> None:
    assert days_left(MARCH + due_in, MARCH) == days


def test_a_case_opening_is_noted_once() -> None:
    referral = Referral(id=uuid4())
    referral.note_case_opening(MARCH)
    referral.note_case_opening(MARCH + timedelta(days=1))
    assert referral.case_opened
    assert [type(event) for event in referral.pending] == [events.CaseOpeningNoted]
