"""`SqlCatalogue`: the `Catalogue` port over the HSDS tables.

The catalogue is a state-based store, not event-sourced: an import upserts records in place
(`catalogue_store.upsert`) and keeps no history of them. Divert reads two things of its own out
of standard HSDS data, both as taxonomy terms attached to services by `attribute` rows: the needs
a service meets (taxonomy `divert-needs`, term codes equal to the contracts' `NeedDomain` codes)
and the Divert jurisdictions whose people it serves (taxonomy `divert-jurisdictions`, term codes
equal to jurisdiction ids). Postal codes come from the service's areas (see
`catalogue_store.postal_codes_of`).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.catalogue_store import upsert
from divert_directory.adapters.tables import (
    attributes,
    organizations,
    postal_codes,
    services,
    taxonomies,
    taxonomy_terms,
)
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.hsds_rows import Record
from divert_directory.service_layer.ports import Written

NEEDS_TAXONOMY = "divert-needs"
"""Name of the taxonomy whose term codes are Divert's need domains."""
JURISDICTIONS_TAXONOMY = "divert-jurisdictions"
"""Name of the taxonomy whose term codes are Divert jurisdiction ids."""


def _jurisdiction_terms() -> ColumnElement[bool]:
    return and_(
        attributes.c.taxonomy_term_id == taxonomy_terms.c.id,
        taxonomy_terms.c.taxonomy_id == taxonomies.c.id,
        taxonomies.c.name == JURISDICTIONS_TAXONOMY,
    )


class SqlCatalogue:
    """`Catalogue` on the directory's own database, read and written in the given session (and so
    in its transaction).

    An offer's `taxonomy_term_codes` are the codes of every term attached to the service except
    the `divert-jurisdictions` ones, which make up its `jurisdictions` instead."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def offer(self, service_id: UUID) -> ServiceOffer | None:
        """The service with this id, whatever its status, or None."""
        offers = await self._offers([str(service_id)])
        return offers[0] if offers else None

    async def offers_in(self, jurisdiction: str) -> list[ServiceOffer]:
        """Every `active` service serving `jurisdiction`, by name."""
        serving = exists().where(
            attributes.c.link_id == services.c.id, _jurisdiction_terms(), taxonomy_terms.c.code == jurisdiction
        )
        rows = await self._session.execute(
            select(services.c.id).where(services.c.status == "active", serving).order_by(services.c.name, services.c.id)
        )
        return await self._offers([row.id for row in rows])

    async def upsert(self, type_name: str, records: Iterable[Record], now: datetime) -> Written:
        """Insert new records of an HSDS type, replace changed ones, leave identical ones alone."""
        return await upsert(self._session, type_name, records, now)

    async def _offers(self, ids: list[str]) -> list[ServiceOffer]:
        session = self._session
        if not ids:
            return []
        found = await session.execute(
            select(services.c.id, services.c.record, services.c.status, organizations.c.name.label("organization"))
            .select_from(services.outerjoin(organizations, organizations.c.id == services.c.organization_id))
            .where(services.c.id.in_(ids))
        )
        rows = {row.id: row for row in found}
        terms = await session.execute(
            select(attributes.c.link_id, taxonomy_terms.c.code, taxonomies.c.name)
            .select_from(
                attributes.join(taxonomy_terms, taxonomy_terms.c.id == attributes.c.taxonomy_term_id).outerjoin(
                    taxonomies, taxonomies.c.id == taxonomy_terms.c.taxonomy_id
                )
            )
            .where(attributes.c.link_id.in_(ids), taxonomy_terms.c.code.is_not(None))
        )
        codes: dict[str, set[str]] = defaultdict(set)
        jurisdictions: dict[str, set[str]] = defaultdict(set)
        for link_id, code, taxonomy in terms:
            (jurisdictions if taxonomy == JURISDICTIONS_TAXONOMY else codes)[link_id].add(code)
        areas = await session.execute(
            select(postal_codes.c.service_id, postal_codes.c.postal_code).where(postal_codes.c.service_id.in_(ids))
        )
        postcodes: dict[str, set[str]] = defaultdict(set)
        for service_id, code in areas:
            postcodes[service_id].add(code)
        return [
            ServiceOffer(
                service_id=UUID(service_id),
                name=rows[service_id].record["name"],
                organization_id=UUID(rows[service_id].record["organization_id"]),
                organization_name=rows[service_id].organization or "",
                status=rows[service_id].status,
                taxonomy_term_codes=frozenset(codes[service_id]),
                jurisdictions=frozenset(jurisdictions[service_id]),
                postal_codes=frozenset(postcodes[service_id]),
            )
            for service_id in ids
            if service_id in rows
        ]
