"""Due times: end of the local day `window` days later, right across daylight-saving changes."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from divert_intake.domain.deadlines import assessment_due_by
from divert_intake.domain.policy import JurisdictionPolicy, load_policy_book


def policy_in(zone: str, *, window: timedelta = timedelta(days=30), end_of_day: bool = True) -> JurisdictionPolicy:
    return JurisdictionPolicy(
        id="test",
        version="1",
        name="Test",
        time_zone=zone,
        effective_date=date(2026, 1, 1),
        assessment_window=window,
        due_at_end_of_local_day=end_of_day,
        lapse_action="warrant_request",
        pathways=("arrest_diversion",),
        offenses=(),
        exclusions=(),
    )


ZONES = ["America/Los_Angeles", "America/Denver", "America/New_York"]


@pytest.mark.parametrize("zone", ZONES)
def test_window_across_spring_forward_ends_at_local_midnight(zone: str) -> None:
    # 2027-03-14 is the US spring-forward day; a referral on 2027-02-20 is due 2027-03-22.
    tz = ZoneInfo(zone)
    due = assessment_due_by(policy_in(zone), datetime(2027, 2, 20, 10, 0, tzinfo=tz))
    assert (due.year, due.month, due.day, due.hour, due.minute, due.second) == (2027, 3, 22, 23, 59, 59)
    assert due.utcoffset() == datetime(2027, 3, 22, 12, tzinfo=tz).utcoffset()  # daylight time there


@pytest.mark.parametrize("zone", ZONES)
def test_window_across_fall_back_ends_at_local_midnight(zone: str) -> None:
    # 2026-11-01 is the fall-back day; standard time applies on the due date.
    tz = ZoneInfo(zone)
    due = assessment_due_by(policy_in(zone), datetime(2026, 10, 20, 9, 30, tzinfo=tz))
    assert due.date() == date(2026, 11, 19)
    assert due.utcoffset() == datetime(2026, 11, 19, 12, tzinfo=tz).utcoffset()
    assert due.utcoffset() != datetime(2026, 10, 20, 12, tzinfo=tz).utcoffset()


@pytest.mark.parametrize("zone", ZONES)
def test_the_local_date_counts_not_the_utc_date(zone: str) -> None:
    # 23:30 local is already the next day in UTC: the window still starts from the local date.
    tz = ZoneInfo(zone)
    late_evening = datetime(2026, 6, 1, 23, 30, tzinfo=tz)
    just_after_midnight = datetime(2026, 6, 2, 0, 0, 1, tzinfo=tz)
    assert assessment_due_by(policy_in(zone), late_evening).date() == date(2026, 7, 1)
    assert assessment_due_by(policy_in(zone), just_after_midnight).date() == date(2026, 7, 2)


def test_a_referral_given_in_another_offset_is_read_in_the_jurisdictions_zone() -> None:
    # 06:00 UTC on June 2nd is still June 1st in Seattle.
    due = assessment_due_by(policy_in("America/Los_Angeles"), datetime.fromisoformat("2026-06-02T06:00:00+00:00"))
    assert due.isoformat() == "2026-07-01T23:59:59.999999-07:00"


def test_the_issue_example_is_due_on_december_30() -> None:
    king_county = load_policy_book().get("king-county")
    assert king_county is not None
    due = assessment_due_by(king_county, datetime.fromisoformat("2026-11-30T14:05:00-08:00"))
    assert due.isoformat() == "2026-12-30T23:59:59.999999-08:00"


def test_santa_fe_is_due_at_the_end_of_the_seventh_local_day() -> None:
    # 18:30 on Saturday 2026-10-31 in Santa Fe is already November 1st in UTC; the seven days count
    # from the local date and end at local midnight after the fall-back change (MST, -07:00).
    santa_fe = load_policy_book().effective("santa-fe", date(2026, 10, 31))
    assert santa_fe is not None and santa_fe.assessment_window == timedelta(days=7)
    due = assessment_due_by(santa_fe, datetime.fromisoformat("2026-11-01T00:30:00+00:00"))
    assert due.isoformat() == "2026-11-07T23:59:59.999999-07:00"


@pytest.mark.parametrize(
    ("referred_at", "due"),
    [
        ("2026-06-01T00:00:00-06:00", "2026-06-08T23:59:59.999999-06:00"),  # first instant of the day
        ("2026-06-01T23:59:59.999999-06:00", "2026-06-08T23:59:59.999999-06:00"),  # last instant
    ],
)
def test_santa_fe_edges_of_a_day(referred_at: str, due: str) -> None:
    santa_fe = load_policy_book().latest("santa-fe")
    assert santa_fe is not None
    assert assessment_due_by(santa_fe, datetime.fromisoformat(referred_at)).isoformat() == due


def test_a_window_of_seconds_is_exact() -> None:
    start = datetime.fromisoformat("2026-11-30T14:05:00-08:00")
    due = assessment_due_by(policy_in("America/Los_Angeles", window=timedelta(seconds=20), end_of_day=False), start)
    assert due - start == timedelta(seconds=20)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        assessment_due_by(policy_in("America/Denver"), datetime(2026, 6, 1, 12))
