"""Date and time types that accept ISO 8601 text only.

Pydantic would otherwise read a bare number as a Unix timestamp, so `0.5` would silently become
1970-01-01: for a referral date or a deadline that is a wrong answer, not a convenience.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError("expected an ISO 8601 date-time such as 2026-11-30T14:05:00-08:00") from error
    elif not isinstance(value, datetime):
        raise ValueError("expected an ISO 8601 date-time string")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError as error:
            raise ValueError("expected an ISO 8601 date such as 1988-04-02") from error
    elif not isinstance(value, date):
        raise ValueError("expected an ISO 8601 date string")
    return value


def _naive_as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Instant = Annotated[datetime, AfterValidator(_naive_as_utc)]
"""A moment in an event: every Divert producer writes it with its UTC offset, and a value without
one (another producer's, or a forged record) is read as UTC, so it always compares with the
service's own aware times instead of failing the handler."""

IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
"""A timezone-aware date-time given as ISO 8601 text (with its UTC offset)."""

IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date given as ISO 8601 text."""
