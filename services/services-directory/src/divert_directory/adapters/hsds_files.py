"""Reading HSDS data from disk: a tabular datapackage (CSV files) or HSDS JSON.

Both yield `SourceRow`s, each one object's fields with where it came from, so the importer can
check them one by one and report a bad one by file and row.
"""

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from divert_directory.domain.hsds_tables import BY_CSV, BY_NAME, NESTING, Nested


class SourceError(Exception):
    """The path is not an HSDS datapackage or HSDS JSON file at all."""


@dataclass
class SourceRow:
    """One object's raw fields; `row` is the CSV line (the header is row 1) or the JSON item (from 1)."""

    type: str
    file: str
    row: int
    origin: Literal["csv", "json"]
    data: dict[str, Any]
    where: str = ""
    """For JSON, the object's path inside the item (`service_at_locations[0].location`)."""


@dataclass
class Source:
    """Everything read from one path."""

    rows: list[SourceRow] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)


def read_source(path: Path, json_type: str | None = None) -> Source:
    """Rows of the datapackage folder (or its `datapackage.json`) or of the JSON file at `path`."""
    if path.is_dir():
        return read_datapackage(path)
    if path.name == "datapackage.json":
        return read_datapackage(path.parent)
    if path.suffix.lower() == ".json":
        return read_json(path, json_type)
    raise SourceError(f"{path} is neither a datapackage folder nor a .json file")


def read_datapackage(folder: Path) -> Source:
    """The HSDS tables of a datapackage folder, located by `datapackage.json` when it lists its
    resources and by the standard's file names otherwise."""
    source = Source()
    for type_name, csv_path in _tables_of(folder, source):
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            for number, cells in enumerate(csv.DictReader(handle), start=2):
                data = {name: value for name, value in cells.items() if name is not None}
                source.rows.append(SourceRow(type_name, csv_path.name, number, "csv", data))
    return source


def _tables_of(folder: Path, source: Source) -> list[tuple[str, Path]]:
    if not folder.exists():
        raise SourceError(f"{folder} does not exist")
    paths = sorted(folder.glob("*.csv"))
    try:
        package = json.loads((folder / "datapackage.json").read_text())
        paths = [folder / resource["path"] for resource in package["resources"] if "path" in resource]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no usable descriptor (the standard's example has a placeholder): go by file names
    tables = []
    for csv_path in paths:
        object_type = BY_CSV.get(csv_path.name)
        if object_type is None or not csv_path.is_file():
            source.skipped_files.append(csv_path.name)
        else:
            tables.append((object_type.name, csv_path))
    if not tables:
        raise SourceError(f"{folder} holds no HSDS tables (organizations.csv, services.csv, ...)")
    return tables


def read_json(path: Path, type_name: str | None = None) -> Source:
    """HSDS JSON: one object, a list of them, or an API page (`contents`) of them; of `type_name`,
    or the type the file name starts with (`service_full.json`), services otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SourceError(f"{path} is not readable JSON: {error}") from error
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        document = document["contents"]
    items = document if isinstance(document, list) else [document]
    type_name = type_name or _type_from_name(path.name)
    merged: dict[tuple[str, str], SourceRow] = {}
    source = Source()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            source.rows.append(SourceRow(type_name, path.name, number, "json", {"": item}, "not an object"))
            continue
        for row in _flatten(type_name, item, {}, path.name, number, ""):
            key = (row.type, str(row.data.get("id")))
            if "id" in row.data and key in merged:
                # the same object nested twice (a phone under its contact and its location): one row
                merged[key].data = row.data | merged[key].data
            else:
                merged[key] = row
                source.rows.append(row)
    return source


def _type_from_name(file_name: str) -> str:
    for candidate in sorted(BY_NAME, key=len, reverse=True):
        if file_name.startswith(candidate):
            return candidate
    return "service"


_EXTRA_NESTING: dict[str, tuple[Nested, ...]] = {
    "organization": (Nested("services", "service", "organization_id"),),
    "service_at_location": (Nested("service", "service", "service_id", many=False),),
}


def _flatten(
    type_name: str, value: Mapping[str, Any], links: dict[str, Any], file: str, number: int, where: str
) -> Iterator[SourceRow]:
    """The object and every object nested in it, each with the links its nesting implied."""
    data = {name: item for name, item in value.items() if not isinstance(item, dict | list)}
    data |= {link: target for link, target in links.items() if data.get(link) is None and target is not None}
    row = SourceRow(type_name, file, number, "json", data, where)
    own_id = value.get("id")
    children: list[tuple[str, Any, dict[str, Any], str]] = []
    for nested in (*NESTING.get(type_name, ()), *_EXTRA_NESTING.get(type_name, ())):
        item = value.get(nested.property)
        if nested.many and isinstance(item, list):
            children += [(nested.type, child, {nested.link: own_id}, f"{nested.property}[{i}]") for i, child in
                         enumerate(item)]  # fmt: skip
        elif not nested.many and isinstance(item, dict):
            if data.get(nested.link) is None and item.get("id") is not None:
                data[nested.link] = item["id"]
            children.append((nested.type, item, {}, nested.property))
    for i, attribute in enumerate(_as_list(value.get("attributes"))):
        children.append(("attribute", attribute, {"link_id": own_id, "link_entity": type_name}, f"attributes[{i}]"))
    for i, entry in enumerate(_as_list(value.get("metadata"))):
        children.append(("metadata", entry, {"resource_id": own_id, "resource_type": type_name}, f"metadata[{i}]"))
    yield row
    for child_type, child, child_links, step in children:
        if isinstance(child, dict):
            yield from _flatten(child_type, child, child_links, file, number, f"{where}.{step}".lstrip("."))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
