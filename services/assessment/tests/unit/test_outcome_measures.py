"""The seed study's measures: arrests and felony charges 6 and 12 months before and after the index date."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from divert_assessment.domain.outcomes import (
    Record,
    add_months,
    measure_group,
    measure_outcomes,
    participants_index_dates,
    side,
)

INDEX = date(2025, 8, 31)


def row(rows, measure: str, months: int):
    return next(r for r in rows if r.measure == measure and r.months == months)


def test_calendar_months_clamp_to_the_months_end() -> None:
    assert add_months(date(2025, 8, 31), -6) == date(2025, 2, 28)
    assert add_months(date(2024, 8, 31), -6) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 15), 12) == date(2026, 1, 15)
    assert add_months(date(2025, 12, 31), 1) == date(2026, 1, 31)


def test_the_windows_leave_the_index_date_out_and_include_their_far_ends() -> None:
    assert side(INDEX, INDEX, 6) is None
    assert side(date(2025, 2, 28), INDEX, 6) == "before"  # 6 months before, inclusive
    assert side(date(2025, 2, 27), INDEX, 6) is None
    assert side(date(2026, 2, 28), INDEX, 6) == "after"  # 6 months after, inclusive
    assert side(date(2026, 3, 1), INDEX, 6) is None
    assert side(date(2026, 3, 1), INDEX, 12) == "after"


def test_arrests_count_every_arrest_and_felony_charges_only_felony_charges() -> None:
    key = "a" * 64
    records = [
        Record(key, INDEX - timedelta(days=10), "arrest", False),
        Record(key, INDEX - timedelta(days=200), "arrest", True),  # within 12 months, not 6
        Record(key, INDEX - timedelta(days=10), "charge", True),
        Record(key, INDEX - timedelta(days=10), "charge", False),  # a misdemeanour charge: no measure
        Record(key, INDEX + timedelta(days=30), "charge", True),
        Record(key, INDEX, "arrest", False),  # the index day: neither side
        Record("b" * 64, INDEX, "arrest", False),  # someone outside the group
    ]
    rows = measure_group("participants", {key: INDEX}, records)

    arrests6, arrests12 = row(rows, "arrests", 6), row(rows, "arrests", 12)
    assert (arrests6.total_before, arrests6.total_after, arrests12.total_before) == (1, 0, 2)
    felonies = row(rows, "felony_charges", 6)
    assert (felonies.total_before, felonies.total_after) == (1, 1)
    assert felonies.change_in_mean == 0 and felonies.change_percent == 0.0
    assert arrests6.change_percent == -100.0


def test_means_are_per_person_of_the_group_including_those_with_no_record() -> None:
    group = {"a" * 64: INDEX, "b" * 64: INDEX, "c" * 64: INDEX, "d" * 64: INDEX}
    records = [Record("a" * 64, INDEX + timedelta(days=1), "arrest", False)] * 2 + [
        Record("b" * 64, INDEX - timedelta(days=1), "arrest", False)
    ]
    arrests = row(measure_group("comparison", group, records), "arrests", 6)

    assert (arrests.n, arrests.mean_before, arrests.mean_after, arrests.change_in_mean) == (4, 0.25, 0.5, 0.25)
    assert arrests.change_percent == 100.0


def test_an_empty_group_has_no_means_and_no_change() -> None:
    arrests = row(measure_group("comparison", {}, []), "arrests", 12)
    assert (arrests.n, arrests.mean_before, arrests.change_in_mean, arrests.change_percent) == (0, None, None, None)


def test_a_participant_is_measured_from_their_first_referral() -> None:
    first = participants_index_dates([("k", date(2025, 3, 1)), ("k", date(2025, 1, 1)), ("j", date(2025, 2, 1))])
    assert first == {"k": date(2025, 1, 1), "j": date(2025, 2, 1)}


def test_both_groups_are_measured_participants_first() -> None:
    rows = measure_outcomes({"a" * 64: INDEX}, {"b" * 64: INDEX}, [])
    assert [r.group for r in rows] == ["participants"] * 4 + ["comparison"] * 4
    assert [(r.measure, r.months) for r in rows[:4]] == [
        ("arrests", 6),
        ("arrests", 12),
        ("felony_charges", 6),
        ("felony_charges", 12),
    ]


@given(
    st.lists(
        st.tuples(st.integers(-800, 800), st.sampled_from(["arrest", "charge"]), st.booleans()),
        max_size=60,
    )
)
def test_twelve_months_see_at_least_what_six_do_and_totals_match_a_direct_count(offsets) -> None:
    key = "a" * 64
    records = [Record(key, INDEX + timedelta(days=days), kind, felony) for days, kind, felony in offsets]
    rows = measure_group("participants", {key: INDEX}, records)

    for measure in ("arrests", "felony_charges"):
        six, twelve = row(rows, measure, 6), row(rows, measure, 12)
        assert twelve.total_before >= six.total_before and twelve.total_after >= six.total_after
    arrests_after_12 = sum(
        1 for d, kind, _ in offsets if kind == "arrest" and INDEX < INDEX + timedelta(days=d) <= date(2026, 8, 31)
    )
    assert row(rows, "arrests", 12).total_after == arrests_after_12
