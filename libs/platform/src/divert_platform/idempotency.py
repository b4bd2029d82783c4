"""`Idempotency-Key`: a retried request gets the first response, never a second effect.

Every mutating route of every service runs its work through `Idempotency.run`:

    @router.post("/{referral_id}/contacts", status_code=201)
    async def record_contact(referral_id: UUID, body: ContactRequest, uow: UnitOfWork, once: Idempotency) -> Any:
        return await once.run(uow, body, lambda: ...)

A key belongs to one caller (its token's subject, role and agency) and one route, so two clients
picking the same key never meet, and a stored answer never reaches anyone but its caller. The
fingerprint covers the path's parameters and the validated body: the same key sent again with
another body, or for another resource, is a 409. The response is stored in the same transaction
as the effect, and the unit of work is committed here, never by a handler.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.auth import Principal, authenticated
from divert_platform.clock import utcnow
from divert_platform.problems import Conflict
from divert_platform.schema import idempotency_keys

if TYPE_CHECKING:
    from divert_platform.unit_of_work import UnitOfWork

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredResponse:
    """The response first given for an idempotency key."""

    status_code: int
    body: Any


class IdempotencyStore(Protocol):
    """Where a unit of work keeps the responses given for keys (`uow.idempotency`)."""

    async def replay(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """The stored response for `key`; `Conflict` if the key was used with another fingerprint."""
        ...

    async def remember(self, scope: str, key: str, fingerprint: str, status_code: int, body: Any) -> None:
        """Store the response given for `key`, in the same transaction as its effect."""
        ...


def request_fingerprint(request: Any) -> str:
    """A stable hash of a JSON-able request."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def key_reused() -> Conflict:
    """The 409 for a key already used with another request."""
    return Conflict("this Idempotency-Key was already used with a different request", field="Idempotency-Key")


class SqlIdempotencyStore:
    """Responses by `(scope, key)` in the `idempotency_keys` table, inside the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def replay(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """The stored response for `key`; `Conflict` if the key was used with another fingerprint."""
        table = idempotency_keys.c
        row = (
            await self._session.execute(select(idempotency_keys).where(table.scope == scope, table.key == key))
        ).first()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise key_reused()
        return StoredResponse(row.status_code, json.loads(row.response))

    async def remember(self, scope: str, key: str, fingerprint: str, status_code: int, body: Any) -> None:
        """Store the response given for `key`, in the same transaction as its effect.

        Two concurrent first uses of one key race here; the loser gets a retryable 409 and its
        transaction (and so its effect) is rolled back.
        """
        try:  # no savepoint: the transaction is rolled back after a conflict, never continued
            await self._session.execute(
                insert(idempotency_keys),
                {
                    "scope": scope,
                    "key": key,
                    "request_hash": fingerprint,
                    "status_code": status_code,
                    "response": json.dumps(body, default=str),
                    "created_at": utcnow(),
                },
            )
        except IntegrityError as error:
            raise Conflict("a request with this Idempotency-Key was just made; retry to get its response") from error


@dataclass(frozen=True)
class Reply:
    """A route's answer with a status other than the route's own (e.g. 200 for "already there")."""

    body: Any
    status_code: int


Replay = Literal["stored", "current"]


class Idempotency:
    """One request's key (if it sent one), scoped to its caller and route; see the module's docstring."""

    def __init__(self, key: str | None, scope: str, path: dict[str, Any], status_code: int, response: Response) -> None:
        self.key = key
        self.scope = scope
        self._path = path
        self._status_code = status_code
        self._response = response

    async def run(
        self,
        uow: "UnitOfWork",
        body: BaseModel | None,
        work: Callable[[], Awaitable[Any]],
        *,
        replay: Replay = "stored",
        retry_on: tuple[type[Exception], ...] = (),
        attempts: int = 1,
    ) -> Any:
        """Do `work` in `uow` and commit, unless this key was seen: then answer as the first time.

        `work` returns the answer's body (JSON-able), or a `Reply` with its own status. With
        `replay="current"` a known key runs `work` again (it must be idempotent by itself) and
        answers with the resource as it stands now, while a key reused with another body is
        still a 409. A failure in `retry_on` (a concurrent writer got there first) runs the whole
        unit again, up to `attempts` times, from a fresh transaction.
        """
        fingerprint = ""
        if self.key is not None:  # without a key nothing is compared: no hashing on the request path
            request = {"path": self._path, "body": body.model_dump(mode="json") if body else None}
            fingerprint = request_fingerprint(request)
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(uow, fingerprint, work, replay)
            except retry_on:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _once(
        self, uow: "UnitOfWork", fingerprint: str, work: Callable[[], Awaitable[Any]], replay: Replay
    ) -> Any:
        async with uow:
            known = None
            if self.key is not None:
                known = await uow.idempotency.replay(self.scope, self.key, fingerprint)
                if known is not None and replay == "stored":
                    self._response.status_code = known.status_code
                    return known.body
            answer = await work()
            reply = answer if isinstance(answer, Reply) else Reply(answer, self._status_code)
            if self.key is not None and known is None:
                await uow.idempotency.remember(self.scope, self.key, fingerprint, reply.status_code, reply.body)
            await uow.commit()
        self._response.status_code = reply.status_code
        return reply.body


def caller_scope(principal: Principal, method: str, route: str) -> str:
    """The key space of one caller on one route, as a fixed-length hash (no personal data stored)."""
    identity = "\n".join((principal.role, principal.agency or "", principal.subject, method, route))
    return hashlib.sha256(identity.encode()).hexdigest()


async def idempotency(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(authenticated)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=MAX_KEY_LENGTH,
            description="Retry-safe key: a repeat returns the first response; reused with another request, 409.",
        ),
    ] = None,
) -> Idempotency:
    """FastAPI dependency: the request's `Idempotency` (see `Idempotency.run`)."""
    route = request.scope["route"]
    key = key or None  # an empty header is no key
    return Idempotency(
        key,
        caller_scope(principal, request.method, route.path) if key is not None else "",
        request.path_params,
        route.status_code or 200,
        response,
    )


IdempotentRequest = Annotated[Idempotency, Depends(idempotency)]
"""A mutating route's parameter: `idempotency: IdempotentRequest`."""
