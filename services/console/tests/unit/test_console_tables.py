"""Tables and their CSV: what the page shows is what the file holds, and no cell runs as a formula."""

import csv
import io

from divert_console.entrypoints.tables import Column, Table, as_csv


def test_the_csv_holds_the_headings_and_every_row_as_shown() -> None:
    table = Table("funnel", "Funnel", [Column("stage", "Stage", numeric=False), Column("count", "Count")])
    table.rows = [{"stage": "Referred", "count": 12}, {"stage": "Enrolled", "count": None}]
    rows = list(csv.reader(io.StringIO(as_csv(table))))
    assert rows == [["Stage", "Count"], ["Referred", "12"], ["Enrolled", ""]]


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted() -> None:
    table = Table("t", "T", [Column("key", "Key", numeric=False)])
    table.rows = [{"key": "=HYPERLINK(1)"}, {"key": "+1"}, {"key": "@sum"}, {"key": "-2"}, {"key": "West"}]
    values = [row[0] for row in csv.reader(io.StringIO(as_csv(table)))][1:]
    assert values == ["'=HYPERLINK(1)", "'+1", "'@sum", "'-2", "West"]
