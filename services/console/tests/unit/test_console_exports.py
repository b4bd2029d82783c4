"""The evaluation files: typed by the API's data dictionary, lists kept as lists, the row the API
faults named as the evaluator's file and row."""

import csv
import io

import pyarrow.parquet as pq

from divert_console.adapters.services_api import ApiProblem
from divert_console.entrypoints.evaluation import _upload_errors, as_parquet, as_rows_csv

FIELDS = [
    {"name": "person_key", "type": "string", "nullable": False, "description": "Pseudonymous key."},
    {"name": "referred_at", "type": "string", "format": "date-time", "nullable": False, "description": "When."},
    {"name": "assessed_on_time", "type": "boolean", "nullable": True, "description": "On time?"},
    {"name": "needs", "type": "array", "item_type": "string", "nullable": False, "description": "Needs."},
]
ROWS = [
    {
        "person_key": "ab" * 32,
        "referred_at": "2026-11-02T10:00:00Z",
        "assessed_on_time": True,
        "needs": ["housing", "food"],
    },
    {"person_key": "cd" * 32, "referred_at": "2026-11-03T10:00:00+00:00", "assessed_on_time": None, "needs": []},
]


def test_the_parquet_file_is_typed_and_described_by_the_dictionary() -> None:
    table = pq.read_table(io.BytesIO(as_parquet(FIELDS, ROWS)))
    assert table.column_names == ["person_key", "referred_at", "assessed_on_time", "needs"]
    assert str(table.schema.field("referred_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("needs").type) == "list<element: string>"
    assert table.schema.field("person_key").metadata == {b"description": b"Pseudonymous key."}
    assert table.column("needs").to_pylist() == [["housing", "food"], []]
    assert table.column("assessed_on_time").to_pylist() == [True, None]


def test_the_csv_has_the_dictionarys_columns_in_order_and_lists_joined() -> None:
    rows = list(csv.reader(io.StringIO(as_rows_csv(FIELDS, ROWS))))
    assert rows[0] == ["person_key", "referred_at", "assessed_on_time", "needs"]
    assert rows[1][3] == "housing;food" and rows[2][2] == ""


def test_a_fault_in_an_uploaded_row_is_named_by_file_and_row() -> None:
    problem = ApiProblem(
        422,
        "Request is invalid",
        "",
        [
            {"field": "body.records.12.date", "message": "not a date", "code": "invalid"},
            {"field": "body.comparison.0.person_key", "message": "already in the group", "code": "invalid"},
        ],
    )
    errors = _upload_errors(problem)
    # Row numbers as a spreadsheet shows them: the header is row 1, the API's item 0 is row 2.
    assert errors == {
        "records": "Row 14, column date: not a date",
        "comparison": "Row 2, column person_key: already in the group",
    }
