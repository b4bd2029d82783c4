"""The evaluation's outcome measures (docs/domain.md#outcome-measures): arrests and felony charges
in the 6 and 12 months before and after each person's index date, for participants and for a
comparison group.

Pure computation over what the evaluator uploads; nothing here is stored. The seed study (the
University of Washington's LEAD evaluation) compared exactly these counts between participants
and a control group.

Windows, for a horizon of N months around index date D:
- before: D - N months ≤ date < D;
- after:  D < date ≤ D + N months.
The index date itself is in neither: it is usually the day of the diverted arrest or contact,
which would otherwise count in one side for every participant. "N months" is calendar months,
the day kept or, past the month's end, the month's last day (31 August - 6 months = 28 or 29
February).
"""

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

RecordKind = Literal["arrest", "charge"]
Measure = Literal["arrests", "felony_charges"]
Group = Literal["participants", "comparison"]
MEASURES: tuple[Measure, ...] = ("arrests", "felony_charges")
HORIZONS_MONTHS: tuple[int, ...] = (6, 12)
DECIMALS = 4


@dataclass(frozen=True)
class Record:
    """One arrest or charge of a person (by person key)."""

    person_key: str
    on: date
    kind: RecordKind
    felony: bool


@dataclass(frozen=True)
class MeasureRow:
    """One measure over one horizon for one group: totals and means (per person of the group)
    before and after, and the change from before to after."""

    group: Group
    measure: Measure
    months: int
    n: int
    total_before: int
    total_after: int
    mean_before: float | None
    mean_after: float | None
    change_in_mean: float | None
    change_percent: float | None


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months (negative for earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def counts(record: Record, measure: Measure) -> bool:
    """Whether a record counts towards a measure: every arrest; charges only when felonies."""
    if measure == "arrests":
        return record.kind == "arrest"
    return record.kind == "charge" and record.felony


def side(record_day: date, index_day: date, months: int) -> Literal["before", "after"] | None:
    """Which window of an index date a record's date falls in for the horizon, if any."""
    if add_months(index_day, -months) <= record_day < index_day:
        return "before"
    if index_day < record_day <= add_months(index_day, months):
        return "after"
    return None


def measure_group(group: Group, index_dates: Mapping[str, date], records: Iterable[Record]) -> list[MeasureRow]:
    """Every measure and horizon for one group (person key → index date)."""
    totals: dict[tuple[Measure, int, str], int] = defaultdict(int)
    for record in records:
        index_day = index_dates.get(record.person_key)
        if index_day is None:
            continue  # someone outside this group
        for measure in MEASURES:
            if not counts(record, measure):
                continue
            for months in HORIZONS_MONTHS:
                if (where := side(record.on, index_day, months)) is not None:
                    totals[measure, months, where] += 1
    n = len(index_dates)
    rows = []
    for measure in MEASURES:
        for months in HORIZONS_MONTHS:
            before, after = totals[measure, months, "before"], totals[measure, months, "after"]
            mean_before, mean_after = _mean(before, n), _mean(after, n)
            change = (
                round(mean_after - mean_before, DECIMALS)
                if mean_before is not None and mean_after is not None
                else None
            )
            percent = round(100 * (after - before) / before, 1) if before else None
            rows.append(MeasureRow(group, measure, months, n, before, after, mean_before, mean_after, change, percent))
    return rows


def _mean(total: int, n: int) -> float | None:
    return round(total / n, DECIMALS) if n else None


def participants_index_dates(referrals: Iterable[tuple[str, date]]) -> dict[str, date]:
    """Each participant's index date: the date of their first referral among `referrals`
    (person key, referral date)."""
    first: dict[str, date] = {}
    for key, referred_on in referrals:
        if key not in first or referred_on < first[key]:
            first[key] = referred_on
    return first


def measure_outcomes(
    participants: Mapping[str, date], comparison: Mapping[str, date], records: Iterable[Record]
) -> list[MeasureRow]:
    """The measures for both groups: participants' rows first, then the comparison group's."""
    kept = list(records)
    return measure_group("participants", participants, kept) + measure_group("comparison", comparison, kept)
