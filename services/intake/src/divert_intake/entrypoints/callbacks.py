"""Status-callback routes: a police agency's integration administrator registers the endpoints its
RMS is called back at when its referrals change, a prosecutor those its office is told of its
jurisdiction's lapses and warrants at; each rotates their signing secrets, disables and enables
them, and reads and redelivers their messages. Who may call what is docs/access.md (`callers.py`).

A signing secret is shown once, in the answer that made it; the database keeps it sealed
(`divert_platform.callbacks.secret_box`). An endpoint's URL is checked before anything is sent
to it (`divert_platform.callbacks.targets`): https:// to a public address outside development.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_intake.bootstrap import Parts, UnitOfWork
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.callback_schemas import (
    MAX_ATTEMPTS,
    MAX_ENDPOINTS,
    MAX_HISTORY,
    MAX_LIVE_SECRETS,
    MAX_PAGE,
    AttemptView,
    EndpointList,
    EndpointRequest,
    EndpointView,
    MessageDetail,
    MessageId,
    MessagePage,
    MessageStatus,
    MessageView,
    RegisteredEndpoint,
    RotatedSecret,
)
from divert_intake.entrypoints.callers import CallbackAdmin, EndpointScope, endpoint_scope
from divert_intake.entrypoints.problems import UnsafeTargetNow
from divert_intake.service_layer.status_callbacks import CallbackType
from divert_intake.service_layer.unit_of_work import SqlIntakeUnitOfWork
from divert_platform.callbacks import registry, targets
from divert_platform.callbacks.schema import callback_messages
from divert_platform.clock import as_utc, utcnow
from divert_platform.dependencies import ReadSession
from divert_platform.idempotency import IdempotentRequest, Ids, Reply, View
from divert_platform.pagination import Cursor, Order, page
from divert_platform.problems import Conflict, NotFound, invalid, printable, problem_responses

router = APIRouter(
    prefix="/v1/callback-endpoints",
    tags=["callbacks"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500),
)

EndpointId = Annotated[UUID, Path(description="The id given when the endpoint was registered.")]
MessageIdPath = Annotated[MessageId, Path(description="The message's `webhook-id`.")]

_NEWEST_FIRST = Order(
    "callback-messages", (callback_messages.c.created_at, callback_messages.c.message_id), descending=True
)


@router.post(
    "",
    status_code=201,
    response_model=RegisteredEndpoint,
    summary="Register a callback endpoint",
    responses=problem_responses(415),
)
async def register_endpoint(
    body: EndpointRequest, caller: CallbackAdmin, intake: Parts, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Register an endpoint to be sent the caller's status changes, signed with a new secret.

    An agency administrator's endpoint hears of its agency's referrals (`rms.agency`) in its
    jurisdiction, of any event type; a prosecutor's of every referral of its jurisdiction, but
    only `referral.lapsed`, `referral.warrant_requested`, `referral.warrant_rescinded` and
    `referral.withdrawn` (another type is a 422 naming `body.event_types`). The URL must be
    https:// with a host resolving only to public addresses, without credentials or fragment
    (a 422 naming `body.url` says why not).

    The answer holds the signing secret (`whsec_...`), this once: it is never shown again, a
    retry with the same `Idempotency-Key` included (rotate it to get a new one).
    """
    scope = endpoint_scope(caller)
    event_types = _event_types(body.event_types, scope)
    await _check_target(body.url, intake.settings, field="body.url")

    async def register() -> Reply:
        mine = await registry.endpoints(
            uow.session, jurisdiction=scope.jurisdiction, agency=scope.agency, audience=scope.audience
        )
        if len(mine) >= MAX_ENDPOINTS:
            raise Conflict(f"at most {MAX_ENDPOINTS} endpoints may be registered; disable or reuse one")
        now = utcnow()
        made = await registry.register(
            uow.session,
            intake.settings.callback_box,
            audience=scope.audience,
            agency=scope.agency,
            jurisdiction=scope.jurisdiction,
            url=body.url,
            event_types=event_types,
            description=body.description,
            actor=caller.subject,
            now=now,
        )
        view = await _endpoint_view(uow.session, made.endpoint, now)
        answer = RegisteredEndpoint(**view.model_dump(), secret=made.secret)
        return Reply({"endpoint_id": view.endpoint_id}, 201, answer=answer.model_dump(mode="json"))

    async def as_kept(ids: Ids) -> dict[str, Any]:
        view = await _endpoint_view(uow.session, await _owned(uow.session, ids["endpoint_id"], scope), utcnow())
        return RegisteredEndpoint(**view.model_dump(), secret=None).model_dump(mode="json")

    return await idempotency.run(uow, body, register, view=as_kept)


@router.get("", response_model=EndpointList, summary="List the caller's callback endpoints")
async def list_endpoints(caller: CallbackAdmin, session: ReadSession) -> EndpointList:
    """The endpoints of the caller's scope, oldest first: an agency administrator's agency's in
    its jurisdiction, a prosecutor's office's. Never a secret, only when each was made and stops."""
    scope, now = endpoint_scope(caller), utcnow()
    rows = await registry.endpoints(
        session, jurisdiction=scope.jurisdiction, agency=scope.agency, audience=scope.audience
    )
    # Registration stops at MAX_ENDPOINTS; two racing registrations could pass it by one.
    return EndpointList(items=[await _endpoint_view(session, row, now) for row in rows[:MAX_ENDPOINTS]])


@router.get("/{endpoint_id}", response_model=EndpointView, summary="A callback endpoint")
async def get_endpoint(endpoint_id: EndpointId, caller: CallbackAdmin, session: ReadSession) -> EndpointView:
    """The endpoint, its live secrets (never their values) and its history. An endpoint outside
    the caller's scope is a 404."""
    return await _endpoint_view(session, await _owned(session, endpoint_id, endpoint_scope(caller)), utcnow())


@router.post("/{endpoint_id}/secret-rotation", response_model=RotatedSecret, summary="Rotate the signing secret")
async def rotate_secret(
    endpoint_id: EndpointId, caller: CallbackAdmin, intake: Parts, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Give the endpoint a new signing secret, shown in this answer only.

    The previous secrets keep signing until `previous_secrets_expire_at` (24 hours by default):
    meanwhile every message carries a signature of each, so the receiver can switch to the new
    secret without losing a message. A retry with the same `Idempotency-Key` answers without the
    secret. An endpoint already signing with the most secrets allowed at once is a 409."""
    scope = endpoint_scope(caller)
    settings = intake.settings

    async def rotate() -> Reply:
        now = utcnow()
        row = await _owned(uow.session, endpoint_id, scope)
        if len(registry.secret_summaries(row, now)) >= MAX_LIVE_SECRETS:
            raise Conflict(
                f"the endpoint already signs with {MAX_LIVE_SECRETS} secrets; rotate again once the oldest expires"
            )
        secret = await registry.rotate_secret(
            uow.session,
            settings.callback_box,
            str(endpoint_id),
            actor=caller.subject,
            now=now,
            overlap=settings.callback_rotation_overlap,
        )
        answer = await _rotated(uow.session, endpoint_id, scope, now, secret)
        return Reply({"endpoint_id": endpoint_id}, 200, answer=answer)

    async def as_kept(ids: Ids) -> dict[str, Any]:
        return await _rotated(uow.session, ids["endpoint_id"], scope, utcnow(), None)

    return await idempotency.run(uow, None, rotate, view=as_kept)


@router.post("/{endpoint_id}/disabling", response_model=EndpointView, summary="Disable an endpoint")
async def disable_endpoint(
    endpoint_id: EndpointId, caller: CallbackAdmin, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Send the endpoint nothing until it is enabled. Its messages are still written, and held:
    enabling it sends them, in order. Disabling a disabled endpoint changes nothing."""
    scope = endpoint_scope(caller)

    async def disable() -> Ids:
        row = await _owned(uow.session, endpoint_id, scope)
        if row["status"] != "disabled":
            reason = f"disabled by {caller.subject}"
            await registry.disable(uow.session, str(endpoint_id), reason=reason, actor=caller.subject, now=utcnow())
        return {"endpoint_id": endpoint_id}

    return await idempotency.run(uow, None, disable, view=_endpoint_now(uow, scope))


@router.post("/{endpoint_id}/enabling", response_model=EndpointView, summary="Enable an endpoint")
async def enable_endpoint(
    endpoint_id: EndpointId, caller: CallbackAdmin, intake: Parts, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Send the endpoint its messages again, the held ones first (oldest of each referral first).

    Its address is checked again first: one that now resolves to a private, loopback or
    link-local address is a 409 `unsafe-target` (change the DNS record, or register another
    endpoint). Enabling an active endpoint changes nothing."""
    scope = endpoint_scope(caller)

    async def enable() -> Ids:
        row = await _owned(uow.session, endpoint_id, scope)
        if row["status"] != "active":
            try:
                await _check(row["url"], intake.settings)
            except targets.UnsafeTarget as error:
                raise UnsafeTargetNow(f"the endpoint's URL may not receive callbacks now: {error}") from error
            await registry.enable(uow.session, str(endpoint_id), actor=caller.subject, now=utcnow())
        return {"endpoint_id": endpoint_id}

    return await idempotency.run(uow, None, enable, view=_endpoint_now(uow, scope))


@router.get("/{endpoint_id}/messages", response_model=MessagePage, summary="An endpoint's messages")
async def list_messages(
    endpoint_id: EndpointId,
    caller: CallbackAdmin,
    session: ReadSession,
    status: MessageStatus | None = None,
    referral_id: Annotated[UUID | None, Query(description="Only the messages about this referral.")] = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> MessagePage:
    """The messages written for the endpoint, newest first, a page at a time: `pending` (not yet
    delivered, or held while the endpoint is disabled), `delivered`, or `failed` (every attempt
    of its schedule failed; redeliver it)."""
    await _owned(session, endpoint_id, endpoint_scope(caller))
    table = callback_messages
    query = select(table).where(table.c.endpoint_id == str(endpoint_id))
    if status is not None:
        query = query.where(table.c.status == status)
    if referral_id is not None:
        query = query.where(table.c.subject == str(referral_id))
    rows, next_cursor = await page(session, query, _NEWEST_FIRST, cursor=cursor, limit=limit)
    return MessagePage(items=[_message_view(row) for row in rows], next_cursor=next_cursor)


@router.get("/{endpoint_id}/messages/{message_id}", response_model=MessageDetail, summary="A message")
async def get_message(
    endpoint_id: EndpointId, message_id: MessageIdPath, caller: CallbackAdmin, session: ReadSession
) -> MessageDetail:
    """The message with the exact JSON body sent (`payload`) and its delivery attempts."""
    await _owned(session, endpoint_id, endpoint_scope(caller))
    row = await _message_of(session, endpoint_id, message_id)
    attempts = await registry.attempts(session, message_id)
    return MessageDetail(
        **_message_view(row).model_dump(),
        payload=row["payload"],
        attempts_made=[_attempt_view(attempt) for attempt in attempts[-MAX_ATTEMPTS:]],
    )


@router.post(
    "/{endpoint_id}/messages/{message_id}/redelivery",
    status_code=202,
    response_model=MessageView,
    summary="Send a message again",
)
async def redeliver_message(
    endpoint_id: EndpointId,
    message_id: MessageIdPath,
    caller: CallbackAdmin,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """Send the message again, with the same `webhook-id` (so a receiver that has it drops it),
    starting a new round of attempts now. The endpoint must be active: on a disabled one this is
    a 409 (enable it first; that sends every held message)."""
    scope = endpoint_scope(caller)

    async def redeliver() -> Ids:
        endpoint = await _owned(uow.session, endpoint_id, scope)
        await _message_of(uow.session, endpoint_id, message_id)
        if endpoint["status"] != "active":
            raise Conflict("the endpoint is disabled: enable it first", current_state=endpoint["status"])
        await registry.redeliver(uow.session, message_id, actor=caller.subject, now=utcnow())
        return {"endpoint_id": endpoint_id, "message_id": UUID(hex=message_id.removeprefix("msg_"))}

    async def view(ids: Ids) -> dict[str, Any]:
        await _owned(uow.session, ids["endpoint_id"], scope)
        row = await _message_of(uow.session, ids["endpoint_id"], f"msg_{ids['message_id'].hex}")
        return _message_view(row).model_dump(mode="json")

    return await idempotency.run(uow, None, redeliver, view=view)


# --- helpers ------------------------------------------------------------------------------------


def _event_types(asked: list[CallbackType] | None, scope: EndpointScope) -> list[str]:
    """The event types to register: those asked for, each one the audience may receive, or all of those."""
    if asked is None:
        return list(scope.event_types)
    refused = [event_type for event_type in asked if event_type not in scope.event_types]
    if refused:
        raise invalid(
            "body.event_types",
            f"an endpoint of audience {scope.audience} may not receive {', '.join(refused)} "
            f"(it may receive {', '.join(scope.event_types)})",
        )
    return list(asked)


async def _check(url: str, settings: IntakeSettings) -> None:
    """Raise `UnsafeTarget` unless callbacks may go to `url` (form, then every address it resolves to)."""
    development = settings.environment == "development"
    targets.check_url(url, development=development)
    await targets.check_address(url, development=development)


async def _check_target(url: str, settings: IntakeSettings, *, field: str) -> None:
    """A 422 naming `field` unless callbacks may go to `url`."""
    try:
        await _check(url, settings)
    except targets.UnsafeTarget as error:
        raise invalid(field, str(error)) from error


async def _owned(session: AsyncSession, endpoint_id: UUID, scope: EndpointScope) -> dict[str, Any]:
    """The endpoint's row; a 404, exactly as if it did not exist, outside the caller's scope."""
    row = await registry.endpoint(session, str(endpoint_id))
    if row is None or not scope.admits(row):
        raise NotFound(f"no callback endpoint {endpoint_id}")
    return row


async def _message_of(session: AsyncSession, endpoint_id: UUID, message_id: str) -> dict[str, Any]:
    """The message's row; a 404 unless it is one of the endpoint's."""
    row = await registry.message(session, message_id)
    if row is None or row["endpoint_id"] != str(endpoint_id):
        raise NotFound(f"no message {message_id} of callback endpoint {endpoint_id}")
    return row


async def _endpoint_view(session: AsyncSession, row: dict[str, Any], now: datetime) -> EndpointView:
    history = await registry.history(session, row["endpoint_id"])
    return EndpointView.model_validate(
        {
            **row,
            "secrets": registry.secret_summaries(row, now),
            "history": history[-MAX_HISTORY:],
        }
    )


def _endpoint_now(uow: SqlIntakeUnitOfWork, scope: EndpointScope) -> View:
    """The answer of a change to an endpoint: the endpoint as it stands (a 404 outside `scope`)."""

    async def view(ids: Ids) -> dict[str, Any]:
        row = await _owned(uow.session, ids["endpoint_id"], scope)
        return (await _endpoint_view(uow.session, row, utcnow())).model_dump(mode="json")

    return view


async def _rotated(
    session: AsyncSession, endpoint_id: UUID, scope: EndpointScope, now: datetime, secret: str | None
) -> dict[str, Any]:
    """The answer to a rotation: the endpoint, the new secret (None on a retry), and when the
    previous secrets stop signing."""
    view = await _endpoint_view(session, await _owned(session, endpoint_id, scope), now)
    ends = [as_utc(entry.expires_at) for entry in view.secrets if entry.expires_at is not None]
    answer = RotatedSecret(endpoint=view, secret=secret, previous_secrets_expire_at=max(ends, default=None))
    return answer.model_dump(mode="json")


def _message_view(row: dict[str, Any]) -> MessageView:
    return MessageView.model_validate({**row, "referral_id": row["subject"]})


def _attempt_view(row: dict[str, Any]) -> AttemptView:
    # The error is the delivery's own text about a receiver's answer: printable before it is shown.
    return AttemptView.model_validate({**row, "error": printable(row["error"]) if row["error"] else None})
