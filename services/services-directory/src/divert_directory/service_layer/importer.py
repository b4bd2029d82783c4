"""Import an HSDS dataset into the catalogue: check every row, keep the good ones, report the rest.

Every valid row is upserted by id in the caller's unit of work, so a re-import of the same data
changes nothing and a re-import of corrected data updates in place (the catalogue is a
state-based store). An invalid row is reported with its file, row number and reason and left
out; the rest still imports. A dry run does all of it, and its caller then rolls back instead of
committing (`entrypoints/catalogue_import.py`).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from divert_directory.adapters.hsds_files import Source, SourceRow, read_source
from divert_directory.domain.hsds_rows import InvalidRow, Record, from_csv, from_json
from divert_directory.domain.hsds_tables import BY_NAME, OBJECT_TYPES
from divert_directory.service_layer.unit_of_work import DirectoryUnitOfWork


@dataclass(frozen=True)
class RowError:
    """One row left out, and why."""

    file: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}: {self.reason}"


@dataclass
class TableCount:
    """Rows of one HSDS table: read, left out, and what the import did with the rest."""

    read: int = 0
    invalid: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """The outcome of one import; `ok` when no row was invalid."""

    dry_run: bool
    tables: dict[str, TableCount] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse(row: SourceRow) -> Record:
    """The HSDS record a source row holds; `InvalidRow` says what is wrong with it."""
    object_type = BY_NAME[row.type]
    if row.origin == "csv":
        return from_csv(object_type, row.data)
    if "" in row.data:
        raise InvalidRow(f"expected an HSDS {row.type} object")
    return from_json(object_type, row.data)


def check_rows(source: Source, report: ImportReport) -> dict[str, list[Record]]:
    """The valid records of `source` by type; invalid rows and duplicate ids go to `report`."""
    valid: dict[str, list[Record]] = defaultdict(list)
    first_seen: dict[tuple[str, str], SourceRow] = {}
    for row in source.rows:
        count = report.tables.setdefault(row.type, TableCount())
        count.read += 1
        try:
            record = parse(row)
        except InvalidRow as error:
            count.invalid += 1
            where = f"{row.where}: " if row.where else ""
            report.errors.append(RowError(row.file, row.row, f"{where}{error}"))
            continue
        earlier = first_seen.setdefault((row.type, record["id"]), row)
        if earlier is not row:
            count.invalid += 1
            reason = f"{row.type} id {record['id']} was already given in {earlier.file} row {earlier.row}"
            report.errors.append(RowError(row.file, row.row, reason))
            continue
        valid[row.type].append(record)
    return valid


async def import_catalogue(
    path: Path, uow: DirectoryUnitOfWork, *, now: datetime, dry_run: bool = False, json_type: str | None = None
) -> ImportReport:
    """Import the datapackage folder or HSDS JSON file at `path` into `uow`'s catalogue (see the
    module's docstring); `dry_run` only labels the report: the caller leaves `uow` uncommitted.

    Raises `SourceError` when `path` is not HSDS data at all."""
    source = read_source(path, json_type)
    report = ImportReport(dry_run=dry_run, skipped_files=source.skipped_files)
    valid = check_rows(source, report)
    for object_type in OBJECT_TYPES:
        if records := valid.get(object_type.name):
            written = await uow.catalogue.upsert(object_type.name, records, now)
            count = report.tables[object_type.name]
            count.inserted, count.updated, count.unchanged = written.inserted, written.updated, written.unchanged
    return report
