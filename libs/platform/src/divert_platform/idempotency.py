"""`Idempotency-Key`: a retried request gets no second effect, and the first answer's status.

Every mutating route of every service runs its work through `Idempotency.run`, in two parts: the
work, which makes the effect and returns the ids of the resource it made or changed, and the view,
which reads that resource as it stands and renders the answer's body:

    @router.post("/{referral_id}/contacts", status_code=201)
    async def record_contact(
        referral_id: UUID, body: ContactRequest, uow: UnitOfWork, idempotency: IdempotentRequest
    ) -> Any:
        async def work() -> Ids:
            await handlers.record_contact(command, uow)
            return {"referral_id": referral_id}

        return await idempotency.run(uow, body, work, view=lambda ids: read_case(uow, ids["referral_id"]))

A key keeps the status code and those ids, never a body: nothing a person said or is (a name, a
phone number, a 42 CFR Part 2 need) rests in `idempotency_keys`. A retry with the key runs no work;
it gets the status first given and the view of the same ids, read again, so the resource as it
stands now. Every answer names what it is about, so every route has ids to keep: a list is read
again by the id it belongs to (a case's referral id), and an answer about nothing to read again
(a 202 "queued") keeps `{}` and a view that ignores them.

A key belongs to one caller (its token's subject, role and agency) and one route, so two clients
picking the same key never meet, and a replay is read for its own caller only. The fingerprint
covers the path's parameters and the validated body: the same key sent again with another body,
or for another resource, is a 409. The key is stored in the same transaction as the effect, and
the unit of work is committed here, never by a handler.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from uuid import UUID

import sqlalchemy as sa
from alembic import op
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from divert_platform.auth import Principal, authenticated
from divert_platform.clock import utcnow
from divert_platform.problems import Conflict
from divert_platform.schema import idempotency_keys
from divert_platform.text import NO_CONTROL_CHARACTERS

if TYPE_CHECKING:
    from divert_platform.unit_of_work import UnitOfWork

MAX_KEY_LENGTH = 200

Ids = Mapping[str, UUID]
"""What a key keeps of its answer: the resource's ids by name (`{"referral_id": …}`), never content."""


@dataclass(frozen=True)
class StoredResponse:
    """What a key keeps of the response first given for it: its status and the resource's ids."""

    status_code: int
    ids: Ids


class IdempotencyStore(Protocol):
    """Where a unit of work keeps what was answered for each key (`uow.idempotency`)."""

    async def replay(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """What was answered for `key`; `Conflict` if the key was used with another fingerprint."""
        ...

    async def remember(self, scope: str, key: str, fingerprint: str, status_code: int, ids: Ids) -> None:
        """Keep the status and ids answered for `key`, in the same transaction as its effect."""
        ...


def request_fingerprint(request: Any) -> str:
    """A stable hash of a JSON-able request."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def key_reused() -> Conflict:
    """The 409 for a key already used with another request."""
    return Conflict("this Idempotency-Key was already used with a different request", field="Idempotency-Key")


def only_ids(ids: Ids) -> dict[str, UUID]:
    """`ids` as a plain dict; a `TypeError` for anything but UUIDs by name (a body's content)."""
    if not isinstance(ids, Mapping) or not all(
        isinstance(name, str) and isinstance(value, UUID) for name, value in ids.items()
    ):
        raise TypeError(f"an idempotency key keeps ids only (UUIDs by name), not {type(ids).__name__} content")
    return dict(ids)


def ids_to_text(ids: Ids) -> str:
    """The stored form of `ids`: a JSON object of id strings."""
    return json.dumps({name: str(value) for name, value in ids.items()}, sort_keys=True)


def ids_from_text(text: str) -> dict[str, UUID]:
    """`ids_to_text` read back."""
    return {name: UUID(value) for name, value in json.loads(text).items()}


class SqlIdempotencyStore:
    """Statuses and ids by `(scope, key)` in the `idempotency_keys` table, inside the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def replay(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """What was answered for `key`; `Conflict` if the key was used with another fingerprint."""
        table = idempotency_keys.c
        row = (
            await self._session.execute(select(idempotency_keys).where(table.scope == scope, table.key == key))
        ).first()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise key_reused()
        return StoredResponse(row.status_code, ids_from_text(row.response))

    async def remember(self, scope: str, key: str, fingerprint: str, status_code: int, ids: Ids) -> None:
        """Keep the status and ids answered for `key`, in the same transaction as its effect.

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
                    "response": ids_to_text(ids),
                    "created_at": utcnow(),
                },
            )
        except IntegrityError as error:
            raise Conflict("a request with this Idempotency-Key was just made; retry to get its response") from error


@dataclass(frozen=True)
class Reply:
    """What `work` returns when the answer's status is not the route's own (e.g. 200 for "already
    there"), or when the work already holds its first answer."""

    ids: Ids
    status_code: int
    answer: Any = None
    """The first answer's body, when the work rendered it anyway (spares reading it back); never
    kept: a retry gets `view` of the ids."""


Work = Callable[[], Awaitable[Ids | Reply]]
"""Makes the effect; the ids of the resource answered about (or a `Reply` of them with its status)."""
View = Callable[[Ids], Awaitable[Any]]
"""The answer's body: the resource of these ids as it stands, read in the request's transaction."""


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
        work: Work,
        *,
        view: View,
        retry_on: tuple[type[Exception], ...] = (),
        attempts: int = 1,
    ) -> Any:
        """Do `work` in `uow`, answer with `view` of its ids and commit; a known key runs no work.

        A known key answers with the status first given and `view` of the ids it keeps, so the
        resource as it stands now (`view` checks what the caller may see, as any read does). A key
        reused with another body is a 409. A failure in `retry_on` (a concurrent writer got there
        first) runs the whole unit again, up to `attempts` times, from a fresh transaction.
        """
        fingerprint = ""
        if self.key is not None:  # without a key nothing is compared: no hashing on the request path
            request = {"path": self._path, "body": body.model_dump(mode="json") if body else None}
            fingerprint = request_fingerprint(request)
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(uow, fingerprint, work, view)
            except retry_on:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _once(self, uow: "UnitOfWork", fingerprint: str, work: Work, view: View) -> Any:
        async with uow:
            if self.key is not None:
                known = await uow.idempotency.replay(self.scope, self.key, fingerprint)
                if known is not None:
                    answer = await view(known.ids)
                    self._response.status_code = known.status_code
                    return answer
            done = await work()
            reply = done if isinstance(done, Reply) else Reply(done, self._status_code)
            ids = only_ids(reply.ids)
            if self.key is not None:
                await uow.idempotency.remember(self.scope, self.key, fingerprint, reply.status_code, ids)
            answer = reply.answer if reply.answer is not None else await view(ids)
            await uow.commit()
        self._response.status_code = reply.status_code
        return answer


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
            pattern=NO_CONTROL_CHARACTERS,
            description=(
                "Retry-safe key: a repeat makes no second change and gets the first status, with the resource as "
                "it stands now; reused with another request, 409."
            ),
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


# --- migrations (frozen: revisions call these by name) ----------------------------------------

_MIGRATION_PAGE = 500
_stored = sa.table(
    "idempotency_keys", sa.column("scope", sa.String), sa.column("key", sa.String), sa.column("response", sa.Text)
)


def _ids_of_body_v1(response: str, id_names: tuple[str, ...]) -> str:
    """The ids-only form of a stored body: the first of `id_names` it holds at its top level."""
    try:
        body = json.loads(response)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for name in id_names:
            try:
                return json.dumps({name: str(UUID(str(body[name])))}, sort_keys=True)
            except (KeyError, ValueError):
                continue
    return "{}"  # never written by a route (each answered about an id): keeps guarding, keeps nothing


def keep_only_ids_v1(*id_names: str) -> None:
    """Inside an Alembic migration: rewrite every stored response to the ids-only form.

    Each body becomes `{name: id}` for the first of `id_names` (the id fields of the service's
    answers, most specific first) found at its top level. Keys, request hashes and status codes
    stay, so a key used before keeps guarding against a second effect. Runs a page at a time,
    in statements SQLite and PostgreSQL both run.
    """
    bind = op.get_bind()
    after: tuple[str, str] | None = None
    while True:
        query = sa.select(_stored.c.scope, _stored.c.key, _stored.c.response)
        if after is not None:
            query = query.where(sa.tuple_(_stored.c.scope, _stored.c.key) > sa.tuple_(*after))
        rows = bind.execute(query.order_by(_stored.c.scope, _stored.c.key).limit(_MIGRATION_PAGE)).all()
        for scope, key, response in rows:
            kept = _ids_of_body_v1(response, id_names)
            if kept != response:
                bind.execute(
                    sa.update(_stored).where(_stored.c.scope == scope, _stored.c.key == key).values(response=kept)
                )
        if len(rows) < _MIGRATION_PAGE:
            return
        after = (rows[-1].scope, rows[-1].key)
