"""The callback outbox: one message per matching endpoint, written with the change it reports.

Written in the change's own transaction, a message exists exactly when the change does: a
rolled-back change leaves none, and a crash after commit loses none. The delivery loop
(`delivery`) sends them later; the trace context of the change is kept with each, so the
delivery continues the change's trace.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from opentelemetry import propagate
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.callbacks.schema import callback_endpoints, callback_messages

_INSERT = insert(callback_messages)


@dataclass(frozen=True)
class StatusChange:
    """A change partners may be told of: what (`event_type`), to which subject, in which order.

    `sequence` grows with every change of the subject (a referral's stream version), so a receiver
    can tell a late or redelivered message from a newer one. `data` is what the message says, and
    must hold nothing the audience may not see.
    """

    event_id: str
    event_type: str
    subject: str
    sequence: int
    jurisdiction: str
    agency: str | None
    occurred_at: datetime
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The message body: Standard Webhooks' recommended `type`, `timestamp` and `data`."""
        return {"type": self.event_type, "timestamp": self.occurred_at.isoformat(), "data": self.data}


def message_id() -> str:
    """A new `webhook-id`: unique per message, the same on every attempt and redelivery."""
    return f"msg_{uuid4().hex}"


class CallbackOutbox:
    """Adds callback messages inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, change: StatusChange, now: datetime) -> int:
        """Queue `change` for every endpoint that subscribed to it; returns how many.

        An endpoint receives a change when it is of its jurisdiction and one of its event types,
        and either its audience is the whole jurisdiction or the change is of its own agency.
        Disabled endpoints get their messages too, held until an administrator enables them.
        """
        endpoints = await self._session.execute(
            select(
                callback_endpoints.c.endpoint_id,
                callback_endpoints.c.audience,
                callback_endpoints.c.agency,
                callback_endpoints.c.event_types,
            ).where(callback_endpoints.c.jurisdiction == change.jurisdiction)
        )
        chosen = [row.endpoint_id for row in endpoints if _subscribed(row, change)]
        if not chosen:
            return 0
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        payload = change.payload()
        await self._session.execute(
            _INSERT,
            [
                {
                    "message_id": message_id(),
                    "endpoint_id": endpoint_id,
                    "event_id": change.event_id,
                    "event_type": change.event_type,
                    "subject": change.subject,
                    "sequence": change.sequence,
                    "payload": payload,
                    "traceparent": carrier.get("traceparent"),
                    "created_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for endpoint_id in chosen
            ],
        )
        return len(chosen)


def _subscribed(endpoint: Any, change: StatusChange) -> bool:
    if change.event_type not in endpoint.event_types:
        return False
    return bool(endpoint.audience == "jurisdiction" or endpoint.agency == change.agency)
