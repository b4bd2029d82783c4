"""Fully nested HSDS objects (the `full` responses), built a table at a time, not a row at a time.

For a batch of records of one type, each nested property is one query over all of them (children
whose link is among the batch's ids, or the objects the batch's links name), recursively, so the
number of queries grows with the depth of the nesting, never with the number of objects.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Column, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.catalogue_store import CHUNK
from divert_directory.adapters.tables import TABLES
from divert_directory.domain.hsds_rows import Record
from divert_directory.domain.hsds_tables import NESTING, UNNESTED, Nested

ONE_TO_ONE = (
    Nested("organization", "organization", "organization_id", many=False),
    Nested("program", "program", "program_id", many=False),
)
"""What a service in a list carries besides its own fields (HSDS `compiled/service_list.json`)."""


async def _where_in(session: AsyncSession, type_name: str, column: str, values: Iterable[str]) -> list[Record]:
    table = TABLES[type_name]
    key: Column[Any] = table.c[column]
    wanted, found = sorted(set(values)), []
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(
            select(table.c.record).where(key.in_(wanted[start : start + CHUNK])).order_by(table.c.id)
        )
        found += [row.record for row in rows]
    return found


async def nest(
    session: AsyncSession,
    type_name: str,
    records: list[Record],
    *,
    only: Collection[Nested] | None = None,
    deep: bool = True,
) -> list[Record]:
    """Copies of `records` with their nested properties: those of `NESTING` (or just `only`), and,
    for most types, `attributes` (each with its taxonomy term) and `metadata`. Nested objects are
    themselves nested when `deep`."""
    if not records:
        return []
    result = [dict(record) for record in records]
    ids = [record["id"] for record in records]
    plan = list(NESTING.get(type_name, ())) if only is None else list(only)
    if only is None and type_name not in UNNESTED:
        plan += [Nested("attributes", "attribute", "link_id"), Nested("metadata", "metadata", "resource_id")]
    for nested in plan:
        if nested.many:
            children = await _where_in(session, nested.type, nested.link, ids)
            if deep:
                children = await nest(session, nested.type, children)
            by_parent: dict[str, list[Record]] = defaultdict(list)
            for child in children:
                by_parent[child[nested.link]].append(child)
            for record in result:
                record[nested.property] = by_parent.get(record["id"], [])
        else:
            targets = [record[nested.link] for record in records if record.get(nested.link)]
            found = await _where_in(session, nested.type, "id", targets)
            if deep:
                found = await nest(session, nested.type, found)
            by_id = {target["id"]: target for target in found}
            for record in result:
                if (target := by_id.get(record.get(nested.link, ""))) is not None:
                    record[nested.property] = target
    return result
