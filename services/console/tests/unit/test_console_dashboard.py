"""The dashboard arranges the reports APIs' numbers: every number shown names the JSON path it comes from."""

from datetime import date

import pytest

from divert_console.entrypoints.dashboard import BadMonth, Window, breakdown, totals

INTAKE = {
    "by": "precinct",
    "total": {
        "key": None,
        "counts": {"referred": 5, "declined": {"ineligible": 1, "approval_denied": 0}},
        "rates": {"enrolled_of_accepted": {"count": 2, "denominator": 4, "percent": 50.0}},
    },
    "groups": [
        {
            "key": "West",
            "counts": {"referred": 3, "declined": {"ineligible": 1, "approval_denied": 0}},
            "rates": {"enrolled_of_accepted": {"count": 1, "denominator": 2, "percent": 50.0}},
        },
        {
            "key": None,
            "counts": {"referred": 2, "declined": {"ineligible": 0, "approval_denied": 0}},
            "rates": {"enrolled_of_accepted": {"count": 1, "denominator": 2, "percent": 50.0}},
        },
    ],
}
ASSESSMENT = {
    "jurisdiction": "demo",
    "referred": 10,
    "enrolled": {"count": 4, "percent": 40.0},
    "closed_by_reason": {"moved_away": 1, "deceased": 0},
}


def _get(report: dict, path: str) -> object:
    value: object = report
    for part in path.split(".")[1:]:
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    return value


def test_every_total_shown_is_the_apis_number_at_the_path_it_names() -> None:
    for source, report in (("intake", INTAKE), ("assessment", ASSESSMENT)):
        rows = totals(source, report)
        assert rows
        for row in rows:
            assert _get(report, row["metrics"]["count"]) == row["count"]
            if "percent" in row["metrics"]:
                assert _get(report, row["metrics"]["percent"]) == row["percent"]
    labels = [row["measure"] for row in totals("intake", INTAKE)]
    assert labels == ["Referred", "Declined: ineligible", "Declined: approval denied", "Enrolled of accepted"]


def test_a_breakdown_has_a_row_per_group_each_cell_the_apis_number() -> None:
    table = breakdown("referrals-by", "Referrals by precinct", "intake", INTAKE, "precinct")
    assert [row["key"] for row in table.rows] == ["West", "none recorded"]
    assert [c.key for c in table.columns] == [
        "key",
        "referred",
        "declined.ineligible",
        "declined.approval_denied",
        "enrolled_of_accepted",
        "enrolled_of_accepted %",
    ]
    for row in table.rows:
        for column, path in row["metrics"].items():
            assert _get(INTAKE, path) == row[column], (column, path)


def test_a_window_is_whole_months_the_last_one_included() -> None:
    window = Window.parse("2026-07", "2026-12", date(2026, 12, 7))
    assert window.query() == {"from": "2026-07-01T00:00:00+00:00", "to": "2027-01-01T00:00:00+00:00"}
    assert Window.parse(None, None, date(2026, 12, 7)).query()["from"] == "2026-07-01T00:00:00+00:00"
    assert Window.parse("2026-12", "2026-07", date(2026, 12, 7)) == window  # given backwards, read forwards
    with pytest.raises(BadMonth):
        Window.parse("July", None, date(2026, 12, 7))
