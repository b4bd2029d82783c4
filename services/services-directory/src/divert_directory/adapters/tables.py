"""The catalogue's tables as the code sees them (Alembic migration 0002 creates them).

The catalogue is a state-based store, not event-sourced: an import replaces records in place. One
table per HSDS object type: `id`, the whole `record` as JSON, each link to another object as
a column, and the columns the API filters on. A test checks these against the migrated schema.
"""

from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, Text

from divert_directory.domain.hsds_tables import OBJECT_TYPES
from divert_platform.columns import UtcDateTime

metadata = MetaData()


def _filter_columns(object_type: str) -> list[Column[Any]]:
    search: Column[Any] = Column("search_text", Text)
    columns: dict[str, list[Column[Any]]] = {
        "organization": [Column("name", Text), search],
        "service": [
            Column("name", Text),
            Column("status", String(32), nullable=False),
            Column("last_modified", UtcDateTime, nullable=False),
            search,
        ],
        "address": [Column("postal_code", String(64))],
        "taxonomy": [Column("name", Text), search],
        "taxonomy_term": [Column("code", Text), Column("name", Text), search],
    }
    return columns.get(object_type, [])


TABLES: dict[str, Table] = {
    object_type.name: Table(
        object_type.table,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("record", JSON, nullable=False),
        *(Column(link, String(36)) for link in object_type.links),
        *_filter_columns(object_type.name),
    )
    for object_type in OBJECT_TYPES
}
"""HSDS object type name (`service`, `taxonomy_term`, ...) → its table."""

postal_codes = Table(
    "hsds_service_area_postal_codes",
    metadata,
    Column("service_area_id", String(36), primary_key=True),
    Column("postal_code", String(64), primary_key=True),
    Column("service_id", String(36)),
)
"""Postal codes each service area covers, read from the area's `extent` at import."""

services = TABLES["service"]
organizations = TABLES["organization"]
service_at_locations = TABLES["service_at_location"]
addresses = TABLES["address"]
attributes = TABLES["attribute"]
taxonomies = TABLES["taxonomy"]
taxonomy_terms = TABLES["taxonomy_term"]
service_areas = TABLES["service_area"]
