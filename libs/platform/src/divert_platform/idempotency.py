"""`Idempotency-Key` support: a retried request gets the first response, never a second effect."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.clock import utcnow
from divert_platform.problems import Conflict
from divert_platform.schema import idempotency_keys


@dataclass(frozen=True)
class StoredResponse:
    """The response first given for an idempotency key."""

    status_code: int
    body: Any


def request_fingerprint(body: Any) -> str:
    """A stable hash of a JSON-able request body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyKeys:
    """Stores responses by `(scope, key)` inside the caller's transaction."""

    def __init__(self, session: AsyncSession, scope: str) -> None:
        self._session = session
        self._scope = scope

    async def replay(self, key: str, fingerprint: str) -> StoredResponse | None:
        """The stored response for `key`; `Conflict` if the key was used with a different body."""
        row = (
            await self._session.execute(
                select(idempotency_keys).where(idempotency_keys.c.scope == self._scope, idempotency_keys.c.key == key)
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used with a different request body", field="Idempotency-Key"
            )
        return StoredResponse(row.status_code, json.loads(row.response))

    async def remember(self, key: str, fingerprint: str, status_code: int, body: Any) -> None:
        """Store the response given for `key`, in the same transaction as its effect.

        Two concurrent first uses of one key race here; the loser gets a retryable 409 and its
        transaction (and so its effect) is rolled back by the caller.
        """
        try:  # no savepoint: the transaction is rolled back after a conflict, never continued
            await self._session.execute(
                insert(idempotency_keys).values(
                    scope=self._scope,
                    key=key,
                    request_hash=fingerprint,
                    status_code=status_code,
                    response=json.dumps(body, default=str),
                    created_at=utcnow(),
                )
            )
        except IntegrityError as error:
            raise Conflict("a request with this Idempotency-Key was just made; retry to get its response") from error
