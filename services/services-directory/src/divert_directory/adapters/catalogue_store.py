"""Writing HSDS records into the catalogue's tables: upsert by id, and only what changed (the
catalogue is a state-based store: records are replaced in place, no history kept)."""

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.tables import TABLES, postal_codes
from divert_directory.domain.hsds_rows import Record, parse_datetime
from divert_directory.domain.hsds_tables import BY_NAME
from divert_directory.service_layer.ports import Written

CHUNK = 500
"""Ids per `IN (...)`: well under SQLite's and asyncpg's bind-parameter limits."""

_POSTAL_CODE = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9 -]{1,10}$")


def normal_postal_code(code: str) -> str:
    """A postal code as the catalogue compares them: upper case, single spaces."""
    return " ".join(code.upper().split())


def postal_codes_of(service_area: Record) -> list[str]:
    """The postal codes a service area lists: by Divert's convention, `extent_type` `text` with an
    `extent` of postal codes separated by commas (HSDS has no postal-code field for areas). Any
    other extent (GeoJSON, prose) lists none."""
    if str(service_area.get("extent_type", "")).lower() != "text":
        return []
    items = [normal_postal_code(item) for item in re.split(r"[,;\n]", str(service_area.get("extent", "")))]
    items = [item for item in items if item]
    return sorted(set(items)) if items and all(_POSTAL_CODE.match(item) for item in items) else []


def _search_text(record: Record, *fields: str) -> str:
    return " ".join(str(record[field]) for field in fields if record.get(field)).lower()


def columns_for(type_name: str, record: Record) -> dict[str, Any]:
    """The row of `type_name`'s table holding `record`."""
    row: dict[str, Any] = {"id": record["id"], "record": record}
    row |= {link: record.get(link) for link in BY_NAME[type_name].links}
    if type_name in ("service", "organization", "taxonomy", "taxonomy_term"):
        row["name"] = record.get("name")
        row["search_text"] = _search_text(record, "name", "alternate_name", "description", "code")
    if type_name == "service":
        row["status"] = record["status"]
        row["last_modified"] = parse_datetime(record["last_modified"])  # checked: never None here
    elif type_name == "address":
        row["postal_code"] = normal_postal_code(record["postal_code"])
    elif type_name == "taxonomy_term":
        row["code"] = record.get("code")
    return row


async def existing_records(session: AsyncSession, table: Table, ids: Sequence[str]) -> dict[str, Record]:
    """The stored records among `ids`, by id."""
    found: dict[str, Record] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        result = await session.execute(select(table.c.id, table.c.record).where(table.c.id.in_(chunk)))
        found |= {row.id: row.record for row in result}
    return found


async def upsert(session: AsyncSession, type_name: str, records: Iterable[Record], now: datetime) -> Written:
    """Insert new records, replace changed ones, leave identical ones alone (re-import is a no-op).

    A service whose source gives no `last_modified` gets the time it was first imported or last
    changed, so `modified_after` means something for every service."""
    table, written = TABLES[type_name], Written()
    incoming = list(records)
    stored = await existing_records(session, table, [record["id"] for record in incoming])
    new_rows, changed = [], []
    for record in incoming:
        old = stored.get(record["id"])
        if type_name == "service" and "last_modified" not in record:
            same = old is not None and {**record, "last_modified": old.get("last_modified")} == old
            record = {**record, "last_modified": old["last_modified"] if same and old else now.isoformat()}
        if old == record:
            written.unchanged += 1
            continue
        changed.append(record)
        if old is None:
            new_rows.append(columns_for(type_name, record))
        else:
            await session.execute(
                update(table).where(table.c.id == record["id"]).values(columns_for(type_name, record))
            )
    for start in range(0, len(new_rows), CHUNK):
        await session.execute(insert(table), new_rows[start : start + CHUNK])
    written.inserted, written.updated = len(new_rows), len(changed) - len(new_rows)
    if type_name == "service_area":
        for record in changed:
            await _replace_postal_codes(session, record)
    return written


async def _replace_postal_codes(session: AsyncSession, service_area: Record) -> None:
    await session.execute(delete(postal_codes).where(postal_codes.c.service_area_id == service_area["id"]))
    rows = [
        {"service_area_id": service_area["id"], "postal_code": code, "service_id": service_area.get("service_id")}
        for code in postal_codes_of(service_area)
    ]
    if rows:
        await session.execute(insert(postal_codes), rows)
