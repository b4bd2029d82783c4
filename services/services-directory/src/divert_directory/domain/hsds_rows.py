"""One HSDS row, checked and typed: from a CSV line (all text) or a JSON object.

A row that breaks the standard raises `InvalidRow` with a reason a data manager can act on; the
importer reports it with its file and row number and imports the rest.
"""

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from divert_directory.domain.hsds_tables import NESTING, Kind, ObjectType

Record = dict[str, Any]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A service's and an organization's name is shown in suggestions under the API's bound for names
# (divert_platform.text.Name): a longer one, or one with control characters, is refused here.
_MAX_NAME = 200
_CONTROLS = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]")
# names of nested properties: an extension column by one of these names would clash with them
_NESTED_NAMES = frozenset({"attributes", "metadata"} | {n.property for ns in NESTING.values() for n in ns})


class InvalidRow(ValueError):
    """The row breaks HSDS 3.0 (or a rule the directory needs); the message says how."""


def from_csv(object_type: ObjectType, cells: Mapping[str, str | None]) -> Record:
    """A CSV row as an HSDS record: empty cells are absent fields, numbers become numbers.

    Columns the standard does not define are kept as text (HSDS allows extension fields)."""
    record: Record = {}
    for name, raw in cells.items():
        if name is None or raw is None or raw.strip() == "" or name in _NESTED_NAMES:
            continue
        value = raw.strip()
        kind = object_type.fields.get(name)
        record[name] = _number(name, value) if kind is Kind.NUMBER else value
    return checked(object_type, record)


def from_json(object_type: ObjectType, value: Mapping[str, Any]) -> Record:
    """The one-to-one fields of an HSDS JSON object (nested arrays and objects are left out)."""
    record = {
        name: item
        for name, item in value.items()
        if item is not None and not isinstance(item, dict | list) and name not in _NESTED_NAMES
    }
    return checked(object_type, record)


def checked(object_type: ObjectType, record: Record) -> Record:
    """`record` when every field has the type HSDS gives it and every required field is there."""
    missing = [name for name in object_type.required if name not in record]
    if object_type.name == "service" and "organization_id" not in record:
        missing.append("organization_id")  # a referral needs to know who provides the service
    if missing:
        raise InvalidRow(f"{object_type.name} is missing required field(s): {', '.join(missing)}")
    for name, value in record.items():
        kind = object_type.fields.get(name)
        if kind is None:
            continue
        if problem := _problem(kind, value):
            raise InvalidRow(f"{name} {problem} (got {str(value)[:80]!r})")
    if isinstance(name_value := record.get("name"), str) and (
        len(name_value) > _MAX_NAME or _CONTROLS.search(name_value)
    ):
        raise InvalidRow(f"name must be at most {_MAX_NAME} characters, without control characters")
    if "id" in record:
        record["id"] = str(UUID(record["id"]))  # one spelling of each id, so upserts find their row
    for link in object_type.links:
        if link in record:
            record[link] = str(UUID(record[link]))
    return record


def _number(name: str, raw: str) -> int | float:
    try:
        number = float(raw)
    except ValueError:
        raise InvalidRow(f"{name} must be a number (got {raw[:80]!r})") from None
    if not math.isfinite(number):
        raise InvalidRow(f"{name} must be a finite number (got {raw[:80]!r})")
    return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number


def _problem(kind: Kind | tuple[str, ...], value: Any) -> str | None:
    """What is wrong with `value` for a field of `kind`, or None."""
    if isinstance(kind, tuple):
        return None if value in kind else f"must be one of {', '.join(kind)}"
    if kind is Kind.NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "must be a number"
    if not isinstance(value, str):
        return "must be text"
    if kind is Kind.UUID:
        try:
            UUID(value)
        except ValueError:
            return "must be a UUID"
    elif kind is Kind.URI and not _URI.match(value):
        return "must be an absolute URI"
    elif kind is Kind.EMAIL and not _EMAIL.match(value):
        return "must be an email address"
    elif kind is Kind.DATETIME and parse_datetime(value) is None:
        return "must be an ISO 8601 date-time with a time zone"
    return None


def parse_datetime(value: str) -> datetime | None:
    """An aware datetime from ISO 8601 text (`Z` allowed), or None."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None and "T" in value.upper() else None
