"""Column types every service's tables share."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from divert_platform.clock import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored and read back in UTC on every database.

    SQLite keeps no offset: it hands back naive values, and an aware value of another zone would be
    stored as its wall-clock time. So every value is turned into UTC on the way in (a naive one is
    taken to be UTC already) and labelled UTC on the way out, and no caller converts anything. In
    migrations the column is a plain `sa.DateTime(timezone=True)`: the DDL is the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
