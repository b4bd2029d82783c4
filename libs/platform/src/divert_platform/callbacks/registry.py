"""Partners' callback endpoints: registration, secret rotation, enabling and disabling,
redelivery, and the history each of these leaves.

Every function works in the caller's session and leaves the commit to it. Secrets are returned
in plain text once, when made, and stored only sealed (`secret_box`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.callbacks.schema import (
    callback_attempts,
    callback_endpoint_events,
    callback_endpoints,
    callback_messages,
)
from divert_platform.callbacks.secret_box import SecretBox, SecretBoxError
from divert_platform.callbacks.signing import new_secret
from divert_platform.clock import as_utc

Audience = Literal["agency", "jurisdiction"]
"""Whose changes an endpoint receives: its agency's within its jurisdiction, or its whole
jurisdiction's (a prosecutor's office)."""

ROTATION_OVERLAP = timedelta(hours=24)
"""How long a replaced secret still signs, so a receiver can switch without losing a message."""


@dataclass(frozen=True)
class Registered:
    """A registered endpoint's row and its first secret (shown once)."""

    endpoint: dict[str, Any]
    secret: str


async def register(
    session: AsyncSession,
    box: SecretBox,
    *,
    audience: Audience,
    agency: str | None,
    jurisdiction: str,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    actor: str,
    now: datetime,
) -> Registered:
    """Register an active endpoint with a fresh secret."""
    secret, endpoint_id = new_secret(), str(uuid4())
    row: dict[str, Any] = {
        "endpoint_id": endpoint_id,
        "audience": audience,
        "agency": agency,
        "jurisdiction": jurisdiction,
        "url": url,
        "event_types": list(event_types),
        "description": description,
        "status": "active",
        "secrets": [{"sealed": box.seal(secret), "created_at": now.isoformat(), "expires_at": None}],
        "created_at": now,
        "created_by": actor,
    }
    await session.execute(insert(callback_endpoints), row)
    await record(session, endpoint_id, "registered", actor, now)
    return Registered(await endpoint(session, endpoint_id) or row, secret)


async def endpoint(session: AsyncSession, endpoint_id: str) -> dict[str, Any] | None:
    """The endpoint's row, or None."""
    row = (
        await session.execute(select(callback_endpoints).where(callback_endpoints.c.endpoint_id == endpoint_id))
    ).first()
    return dict(row._mapping) if row else None


async def endpoints(
    session: AsyncSession, *, jurisdiction: str | None, agency: str | None, audience: Audience | None = None
) -> list[dict[str, Any]]:
    """Endpoints of `jurisdiction` and `agency` (None: any), oldest first."""
    query = select(callback_endpoints).order_by(callback_endpoints.c.created_at, callback_endpoints.c.endpoint_id)
    if jurisdiction is not None:
        query = query.where(callback_endpoints.c.jurisdiction == jurisdiction)
    if agency is not None:
        query = query.where(callback_endpoints.c.agency == agency)
    if audience is not None:
        query = query.where(callback_endpoints.c.audience == audience)
    return [dict(row._mapping) for row in await session.execute(query)]


def live_secrets(row: dict[str, Any], box: SecretBox, now: datetime) -> list[str]:
    """The endpoint's secrets that still sign at `now`, newest first, decrypted.

    A secret no configured key opens is left out (one sealed under a key since lost, replaced by a
    rotation); `SecretBoxError` only when none of them opens.
    """
    opened, unopened = [], 0
    for entry in row["secrets"]:
        if _expired(entry, now):
            continue
        try:
            opened.append(box.open(entry["sealed"]))
        except SecretBoxError:
            unopened += 1
    if unopened and not opened:
        raise SecretBoxError("no live secret of the endpoint opens with the configured keys")
    return opened


def secret_summaries(row: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """What may be shown of the endpoint's live secrets: when each was made and when it stops."""
    return [
        {"created_at": entry["created_at"], "expires_at": entry["expires_at"]}
        for entry in row["secrets"]
        if not _expired(entry, now)
    ]


async def rotate_secret(
    session: AsyncSession, box: SecretBox, endpoint_id: str, *, actor: str, now: datetime, overlap: timedelta
) -> str:
    """Give the endpoint a new secret; the ones it had sign alongside it for `overlap` more.

    Returns the new secret (shown once). Secrets already expired are dropped.
    """
    row = await endpoint(session, endpoint_id)
    if row is None:
        raise KeyError(endpoint_id)
    secret = new_secret()
    ends = (now + overlap).isoformat()
    kept = [
        {**entry, "expires_at": entry["expires_at"] or ends} for entry in row["secrets"] if not _expired(entry, now)
    ]
    fresh = {"sealed": box.seal(secret), "created_at": now.isoformat(), "expires_at": None}
    await session.execute(
        update(callback_endpoints).where(callback_endpoints.c.endpoint_id == endpoint_id).values(secrets=[fresh, *kept])
    )
    await record(session, endpoint_id, "secret_rotated", actor, now, f"previous secrets sign until {ends}")
    return secret


async def enable(session: AsyncSession, endpoint_id: str, *, actor: str, now: datetime) -> None:
    """Enable the endpoint: its held messages go out, from the oldest of each subject."""
    await session.execute(
        update(callback_endpoints)
        .where(callback_endpoints.c.endpoint_id == endpoint_id)
        .values(status="active", disabled_at=None, disabled_reason=None, failing_since=None)
    )
    await record(session, endpoint_id, "enabled", actor, now)


async def disable(session: AsyncSession, endpoint_id: str, *, reason: str, actor: str, now: datetime) -> None:
    """Disable the endpoint: nothing is sent to it (messages are still written, and held)."""
    await session.execute(
        update(callback_endpoints)
        .where(callback_endpoints.c.endpoint_id == endpoint_id)
        .values(status="disabled", disabled_at=now, disabled_reason=reason[:300])
    )
    await record(session, endpoint_id, "disabled", actor, now, reason)


async def redeliver(session: AsyncSession, message_id: str, *, actor: str, now: datetime) -> None:
    """Send the message again (same `webhook-id`), with a new round of attempts starting now."""
    row = (
        await session.execute(
            select(callback_messages.c.endpoint_id).where(callback_messages.c.message_id == message_id)
        )
    ).first()
    if row is None:
        raise KeyError(message_id)
    await session.execute(
        update(callback_messages)
        .where(callback_messages.c.message_id == message_id)
        .values(status="pending", attempts=0, next_attempt_at=now)
    )
    await record(session, row.endpoint_id, "redelivery_requested", actor, now, message_id)


async def message(session: AsyncSession, message_id: str) -> dict[str, Any] | None:
    """The message's row, or None."""
    row = (await session.execute(select(callback_messages).where(callback_messages.c.message_id == message_id))).first()
    return dict(row._mapping) if row else None


async def messages(
    session: AsyncSession,
    endpoint_id: str,
    *,
    status: str | None = None,
    subject: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The endpoint's messages, newest first; `after` is the (created_at, message_id) of the last
    one of the previous page."""
    table = callback_messages
    query = select(table).where(table.c.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(table.c.status == status)
    if subject is not None:
        query = query.where(table.c.subject == subject)
    if after is not None:
        created, last_id = after
        query = query.where(
            (table.c.created_at < created) | ((table.c.created_at == created) & (table.c.message_id < last_id))
        )
    query = query.order_by(table.c.created_at.desc(), table.c.message_id.desc()).limit(limit)
    return [dict(row._mapping) for row in await session.execute(query)]


async def attempts(session: AsyncSession, message_id: str) -> list[dict[str, Any]]:
    """Every attempt to deliver the message, oldest first."""
    query = (
        select(callback_attempts)
        .where(callback_attempts.c.message_id == message_id)
        .order_by(callback_attempts.c.position)
    )
    return [dict(row._mapping) for row in await session.execute(query)]


async def history(session: AsyncSession, endpoint_id: str) -> list[dict[str, Any]]:
    """What happened to the endpoint (registered, rotated, disabled, enabled, redeliveries), in order."""
    query = (
        select(callback_endpoint_events)
        .where(callback_endpoint_events.c.endpoint_id == endpoint_id)
        .order_by(callback_endpoint_events.c.position)
    )
    return [dict(row._mapping) for row in await session.execute(query)]


async def record(
    session: AsyncSession, endpoint_id: str, kind: str, actor: str, now: datetime, detail: str | None = None
) -> None:
    """Append to the endpoint's history."""
    await session.execute(
        insert(callback_endpoint_events),
        {"endpoint_id": endpoint_id, "kind": kind, "at": now, "actor": actor, "detail": detail and detail[:300]},
    )


def _expired(entry: dict[str, Any], now: datetime) -> bool:
    return entry["expires_at"] is not None and as_utc(datetime.fromisoformat(entry["expires_at"])) <= now


async def reseal_all(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every endpoint's secrets under the box's first key (before an old key is
    dropped from `DIVERT_CALLBACK_ENCRYPTION_KEYS`); returns how many endpoints were rewritten."""
    rows = (await session.execute(select(callback_endpoints.c.endpoint_id, callback_endpoints.c.secrets))).all()
    for row in rows:
        resealed = [{**entry, "sealed": box.reseal(entry["sealed"])} for entry in row.secrets]
        await session.execute(
            update(callback_endpoints)
            .where(callback_endpoints.c.endpoint_id == row.endpoint_id)
            .values(secrets=resealed)
        )
    return len(rows)
