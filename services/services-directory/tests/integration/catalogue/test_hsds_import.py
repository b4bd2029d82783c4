"""Importing HSDS data: the standard's own examples, invalid rows, dry runs and re-imports."""

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from divert_directory.adapters.tables import TABLES, metadata, postal_codes
from divert_directory.bootstrap import Directory
from divert_directory.domain.hsds_tables import BY_CSV


async def counts(directory: Directory) -> dict[str, int]:
    """Rows in each catalogue table, by HSDS type."""
    async with directory.sessions() as session:
        return {
            name: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for name, table in TABLES.items()
        }


def rows_in(folder: Path) -> dict[str, int]:
    """Data rows of each HSDS CSV file in `folder`, by HSDS type (what an import must store)."""
    found = {}
    for path in folder.glob("*.csv"):
        if path.name in BY_CSV:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                found[BY_CSV[path.name].name] = sum(1 for _ in csv.DictReader(handle))
    return found


async def test_the_migrated_schema_is_the_one_the_code_uses(directory: Directory) -> None:
    async with directory.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {table: {c["name"] for c in inspect(sync).get_columns(table)} for table in metadata.tables}
        )

    assert columns == {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}


async def test_the_standards_example_datapackage_imports_in_full(hsds: Path, directory: Directory, load: Any) -> None:
    example = hsds / "examples" / "csv"
    expected = rows_in(example)

    report = await load(example)

    assert report.ok, report.errors
    assert len(expected) == len(TABLES), "the example has a CSV file for every HSDS table"
    assert {name: count.inserted for name, count in report.tables.items()} == expected
    assert await counts(directory) == expected


@pytest.mark.parametrize(
    "example",
    [
        "service_full.json",
        "service_list.json",
        "organization_full.json",
        "organization_list.json",
        "service_at_location_full.json",
        "service_at_location_list.json",
        "location.json",
        "taxonomy.json",
        "taxonomy_list.json",
        "taxonomy_term.json",
        "taxonomy_term_list.json",
    ],
)
async def test_the_standards_json_examples_import(hsds: Path, directory: Directory, load: Any, example: str) -> None:
    report = await load(hsds / "examples" / example)

    assert report.ok, report.errors
    assert sum(count.inserted for count in report.tables.values()) > 0


async def test_a_nested_service_is_stored_as_its_tables(hsds: Path, directory: Directory, load: Any) -> None:
    report = await load(hsds / "examples" / "service_full.json")
    stored = await counts(directory)

    assert report.ok, report.errors
    # the example nests one of each, the same phone under its contact and its service at location
    for name in ("service", "organization", "service_at_location", "location", "address", "phone", "contact"):
        assert stored[name] == 1, name
    assert stored["attribute"] >= 1 and stored["taxonomy_term"] == 1 and stored["taxonomy"] == 1


async def test_reimporting_changes_nothing(hsds: Path, directory: Directory, load: Any) -> None:
    example = hsds / "examples" / "csv"
    await load(example)
    before = await counts(directory)

    again = await load(example)

    assert again.ok
    assert all(c.inserted == 0 and c.updated == 0 and c.unchanged == c.read for c in again.tables.values())
    assert await counts(directory) == before


async def test_a_changed_row_is_updated_in_place(hsds: Path, directory: Directory, load: Any, tmp_path: Path) -> None:
    package = _copy_of_example(hsds, tmp_path)
    await load(package)
    services = package / "services.csv"
    services.write_text(services.read_text().replace("Community Counselling", "Community Counselling Plus"))

    report = await load(package)

    assert report.tables["service"].updated == 1
    async with directory.sessions() as session:
        record = (await session.execute(select(TABLES["service"].c.record))).scalar_one()
    assert record["name"] == "Community Counselling Plus"


async def test_invalid_rows_are_reported_and_the_rest_imports(
    hsds: Path, directory: Directory, load: Any, tmp_path: Path
) -> None:
    package = _copy_of_example(hsds, tmp_path)
    _append(package / "services.csv", "not-a-uuid,d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610,,Bad id,,,,,active")
    _append(
        package / "services.csv", "6a3c2f0e-0000-4000-8000-000000000001,d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610,,No status"
    )
    _append(
        package / "services.csv",
        "6a3c2f0e-0000-4000-8000-000000000002,d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610,,Ok,,,,,open",
    )
    _append(package / "locations.csv", "6a3c2f0e-0000-4000-8000-000000000003,physical,,,Far,,,,north,0")
    _append(package / "taxonomies.csv", "5c4d79d7-cc55-470e-9f1f-8cad074e4892,duplicate,again")

    report = await load(package)

    reasons = {(error.file, error.row): error.reason for error in report.errors}
    assert set(reasons) == {
        ("services.csv", 3),
        ("services.csv", 4),
        ("services.csv", 5),
        ("locations.csv", 3),
        ("taxonomies.csv", 3),
    }
    assert "id must be a UUID" in reasons[("services.csv", 3)]
    assert "missing required field(s): status" in reasons[("services.csv", 4)]
    assert "status must be one of active" in reasons[("services.csv", 5)]
    assert "latitude must be a number" in reasons[("locations.csv", 3)]
    assert "already given in taxonomies.csv row 2" in reasons[("taxonomies.csv", 3)]
    assert not report.ok
    assert report.tables["service"].invalid == 3 and report.tables["service"].inserted == 1
    assert (await counts(directory))["organization"] == 1, "the valid rows were imported"


async def test_a_dry_run_checks_and_counts_but_writes_nothing(hsds: Path, directory: Directory, load: Any) -> None:
    report = await load(hsds / "examples" / "csv", dry_run=True)

    assert report.ok and report.dry_run
    assert report.tables["service"].inserted == 1
    assert set((await counts(directory)).values()) == {0}


async def test_json_errors_name_the_item_and_the_nested_object(directory: Directory, load: Any, tmp_path: Path) -> None:
    source = tmp_path / "services.json"
    source.write_text(
        '[{"id": "6a3c2f0e-0000-4000-8000-000000000010", "name": "A", "status": "active",'
        ' "organization": {"id": "6a3c2f0e-0000-4000-8000-000000000011", "name": "Org"}}]'
    )

    report = await load(source)

    assert [(e.file, e.row) for e in report.errors] == [("services.json", 1)]
    assert report.errors[0].reason.startswith("organization: organization is missing required field(s): description")
    assert report.tables["service"].inserted == 1


async def test_service_areas_listing_postal_codes_are_indexed(
    hsds: Path, directory: Directory, load: Any, tmp_path: Path
) -> None:
    package = _copy_of_example(hsds, tmp_path)
    _append(
        package / "service_areas.csv",
        '6a3c2f0e-0000-4000-8000-000000000020,ac148810-d857-441c-9679-408f346de14b,Area,,"98101, 98104",text,',
    )

    await load(package)

    async with directory.sessions() as session:
        codes = (await session.execute(select(postal_codes.c.postal_code).order_by("postal_code"))).scalars().all()
    assert codes == ["98101", "98104"], "the example's GeoJSON-typed area lists none"


def _copy_of_example(hsds: Path, tmp_path: Path) -> Path:
    package = tmp_path / "package"
    shutil.copytree(hsds / "examples" / "csv", package)
    (package / "datapackage.json").unlink()  # the example's is a placeholder path, not a descriptor
    return package


def _append(path: Path, line: str) -> None:
    path.chmod(0o644)
    with path.open("a") as handle:
        handle.write(line + "\n")
