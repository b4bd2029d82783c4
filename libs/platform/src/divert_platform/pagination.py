"""Cursor pagination: stable pages of a read model however many rows arrive between requests.

A list has an `Order`: sort columns, the last of them unique (an id) so that ties never split
across pages. The cursor is the position of the last row given, opaque to callers and bound to
the order it was made for: a cursor of another order (or forged) is `InvalidCursor`, a 422.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import Column, ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.clock import as_utc
from divert_platform.columns import UtcDateTime

MAX_CURSOR = 200
"""A cursor is a short JSON array in base64: an order's name, a time and an id fit well within this."""

Cursor = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CURSOR, pattern=r"^[A-Za-z0-9_-]+$")]
"""A page's `next_cursor`, and the `cursor` query parameter that takes it back (URL-safe base64)."""


class InvalidCursor(ValueError):
    """The cursor was not handed out by this API for this listing order."""


@dataclass(frozen=True)
class Order:
    """A listing order: `columns` compared as one tuple, all ascending or all descending."""

    name: str
    columns: Sequence[Column[Any]]
    descending: bool = False

    def sorted(self, query: Select[Any]) -> Select[Any]:
        """`query` in this order."""
        return query.order_by(*(column.desc() if self.descending else column for column in self.columns))

    def after(self, query: Select[Any], cursor: str) -> Select[Any]:
        """`query` narrowed to the rows after `cursor`'s position."""
        # (a, b) > (x, y) spelt out as a > x OR (a = x AND b > y): every database plans it on an index.
        values = self._decode(cursor)
        beyond: ColumnElement[bool] | None = None
        for column, value in reversed(list(zip(self.columns, values, strict=True))):
            past = column < value if self.descending else column > value
            beyond = past if beyond is None else or_(past, and_(column == value, beyond))
        assert beyond is not None  # an order has at least one column
        return query.where(beyond)

    def cursor(self, row: dict[str, Any]) -> str:
        """The cursor pointing just after `row`."""
        values = [_to_json(row[column.name]) for column in self.columns]
        raw = json.dumps([self.name, *values]).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if len(cursor) > MAX_CURSOR:  # an order over long text columns: a bug, refused before it is served
            raise ValueError(f"a cursor of order {self.name!r} is longer than {MAX_CURSOR} characters")
        return cursor

    def _decode(self, cursor: str) -> list[Any]:
        try:
            name, *values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if name != self.name or len(values) != len(self.columns):
                raise ValueError("a cursor of another listing")
            return [_from_json(column, value) for column, value in zip(self.columns, values, strict=True)]
        except Exception as error:
            raise InvalidCursor("the cursor is not one this API returned for these filters") from error


async def page(
    session: AsyncSession, query: Select[Any], order: Order, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` rows of `query` (as dicts) after `cursor` in `order`, and the next page's
    cursor, or None when this is the last page. Raises `InvalidCursor`."""
    if cursor:
        query = order.after(query, cursor)
    rows = [dict(row._mapping) for row in await session.execute(order.sorted(query).limit(limit + 1))]
    items = rows[:limit]
    return items, order.cursor(items[-1]) if len(rows) > limit else None


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _from_json(column: Column[Any], value: Any) -> Any:
    if isinstance(column.type, UtcDateTime):
        return as_utc(datetime.fromisoformat(value))
    if not isinstance(value, str | int):
        raise ValueError("not a cursor value")
    return value
