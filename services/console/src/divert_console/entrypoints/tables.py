"""Tables as the pages and their CSV downloads share them: one definition, two renderings."""

import csv
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    """A column: the key in each row, its heading, and whether it is a number (right-aligned)."""

    key: str
    label: str
    numeric: bool = True


@dataclass
class Table:
    """A titled table; `metric_prefix` names the API a cell's number comes from (`data-metric`)."""

    id: str
    caption: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def as_csv(table: Table) -> str:
    """The table as CSV: a header row of the column headings, then the rows as shown (blank for none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow(
            ["" if row.get(column.key) is None else _neutral(row.get(column.key)) for column in table.columns]
        )
    return out.getvalue()


def _neutral(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (CSV injection): text starting =, +, - or @ gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
