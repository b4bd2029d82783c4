"""Reading the catalogue the way the HSDS API asks: filtered (every filter ANDed), counted, paged."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.catalogue_store import normal_postal_code
from divert_directory.adapters.tables import (
    TABLES,
    addresses,
    attributes,
    organizations,
    postal_codes,
    service_at_locations,
    services,
    taxonomies,
    taxonomy_terms,
)
from divert_directory.domain.hsds_rows import Record


def normal_id(value: str) -> str:
    """An id as stored (UUIDs in canonical lower-case form); anything else as given, matching nothing."""
    try:
        return str(UUID(value))
    except ValueError:
        return value


@dataclass(frozen=True)
class ServiceFilter:
    """The HSDS query parameters that narrow services (and services at locations)."""

    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None
    postcode: str | None = None
    """Only for services at locations: the service's areas cover it, or, for a service without
    postal-coded areas, the location's address has it."""


@dataclass(frozen=True)
class Slice:
    """Which page of results: `page` from 1, `per_page` items each."""

    page: int
    per_page: int


def matches(column: Any, search: str | None) -> list[ColumnElement[bool]]:
    """Every word of `search` appears in `column` (which holds lower-case text)."""
    words = (search or "").lower().split()
    escaped = [word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for word in words]
    return [column.like(f"%{word}%", escape="\\") for word in escaped]


def service_conditions(where: ServiceFilter) -> list[ColumnElement[bool]]:
    """Conditions on `services` for every filter given."""
    conditions = matches(services.c.search_text, where.search)
    if where.taxonomy_term_id is not None:
        term = normal_id(where.taxonomy_term_id)
        conditions.append(exists().where(attributes.c.link_id == services.c.id, attributes.c.taxonomy_term_id == term))
    if where.taxonomy_id is not None:
        in_taxonomy = and_(
            attributes.c.link_id == services.c.id,
            attributes.c.taxonomy_term_id == taxonomy_terms.c.id,
            taxonomy_terms.c.taxonomy_id == normal_id(where.taxonomy_id),
        )
        conditions.append(exists().where(in_taxonomy))
    if where.organization_id is not None:
        conditions.append(services.c.organization_id == normal_id(where.organization_id))
    if where.modified_after is not None:
        conditions.append(services.c.last_modified >= where.modified_after)
    return conditions


def postcode_condition(postcode: str) -> ColumnElement[bool]:
    """A service at a location covers `postcode` (see `ServiceFilter.postcode`)."""
    code = normal_postal_code(postcode)
    by_area = exists().where(postal_codes.c.service_id == service_at_locations.c.service_id)
    in_area = exists().where(
        postal_codes.c.service_id == service_at_locations.c.service_id, postal_codes.c.postal_code == code
    )
    at_address = exists().where(
        addresses.c.location_id == service_at_locations.c.location_id, addresses.c.postal_code == code
    )
    return or_(in_area, and_(not_(by_area), at_address))


async def page_of(session: AsyncSession, query: Select[Any], order: list[Any], at: Slice) -> tuple[int, list[Record]]:
    """The total number of rows `query` (selecting `record`) finds, and the records of one page."""
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(*order).limit(at.per_page).offset((at.page - 1) * at.per_page))
    return total, [row.record for row in rows]


async def list_services(session: AsyncSession, where: ServiceFilter, at: Slice) -> tuple[int, list[Record]]:
    """Services matching every filter, by name."""
    query = select(services.c.record).where(*service_conditions(where))
    return await page_of(session, query, [services.c.name, services.c.id], at)


async def list_service_at_locations(session: AsyncSession, where: ServiceFilter, at: Slice) -> tuple[int, list[Record]]:
    """Services at locations whose service matches every filter (and which cover `postcode`)."""
    conditions = service_conditions(where)
    if where.postcode is not None:
        conditions.append(postcode_condition(where.postcode))
    query = (
        select(service_at_locations.c.record)
        .select_from(service_at_locations.outerjoin(services, services.c.id == service_at_locations.c.service_id))
        .where(*conditions)
    )
    return await page_of(session, query, [services.c.name, service_at_locations.c.id], at)


async def list_organizations(session: AsyncSession, search: str | None, at: Slice) -> tuple[int, list[Record]]:
    """Organizations whose name or description has every word of `search`, by name."""
    query = select(organizations.c.record).where(*matches(organizations.c.search_text, search))
    return await page_of(session, query, [organizations.c.name, organizations.c.id], at)


async def list_taxonomies(session: AsyncSession, search: str | None, at: Slice) -> tuple[int, list[Record]]:
    """Taxonomies whose name or description has every word of `search`, by name."""
    query = select(taxonomies.c.record).where(*matches(taxonomies.c.search_text, search))
    return await page_of(session, query, [taxonomies.c.name, taxonomies.c.id], at)


@dataclass(frozen=True)
class TermFilter:
    """The HSDS query parameters that narrow taxonomy terms."""

    search: str | None = None
    taxonomy_id: str | None = None
    parent_id: str | None = None
    top_only: bool = False


async def list_taxonomy_terms(session: AsyncSession, where: TermFilter, at: Slice) -> tuple[int, list[Record]]:
    """Taxonomy terms matching every filter, by code then name."""
    conditions = matches(taxonomy_terms.c.search_text, where.search)
    if where.taxonomy_id is not None:
        conditions.append(taxonomy_terms.c.taxonomy_id == normal_id(where.taxonomy_id))
    if where.parent_id is not None:
        conditions.append(taxonomy_terms.c.parent_id == normal_id(where.parent_id))
    if where.top_only:
        conditions.append(taxonomy_terms.c.parent_id.is_(None))
    query = select(taxonomy_terms.c.record).where(*conditions)
    return await page_of(session, query, [taxonomy_terms.c.code, taxonomy_terms.c.name, taxonomy_terms.c.id], at)


async def record_of(session: AsyncSession, type_name: str, record_id: str) -> Record | None:
    """The stored record of one object, or None."""
    table = TABLES[type_name]
    result = await session.execute(select(table.c.record).where(table.c.id == normal_id(record_id)))
    return result.scalar_one_or_none()
