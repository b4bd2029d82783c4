"""Request and response bodies of the status-callback routes (what an agency's integrator codes against).

An endpoint's view never holds a signing secret: the secret is in the answer to the registration
and to each rotation, once, and nowhere else.
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, CallbackType
from divert_platform.callbacks.registry import Audience
from divert_platform.callbacks.targets import MAX_URL_LENGTH
from divert_platform.pagination import Cursor
from divert_platform.text import CODE_PATTERN, free_text

MessageStatus = Literal["pending", "delivered", "failed"]

MAX_PAGE = 200
"""The largest `limit` of an endpoint's message list."""
MAX_ENDPOINTS = 100
"""The most endpoints one scope may register (an agency's systems, a prosecutor's office's)."""
MAX_LIVE_SECRETS = 10
"""The most secrets an endpoint may sign with at once (each rotation adds one for the overlap)."""
MAX_HISTORY = 200
"""An endpoint's view shows the newest this many entries of its history."""
MAX_ATTEMPTS = 100
"""A message's view shows the newest this many delivery attempts."""

Url = Annotated[str, free_text(MAX_URL_LENGTH, min_length=1)]
Secret = Annotated[str, StringConstraints(max_length=100, pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
MessageId = Annotated[str, StringConstraints(min_length=36, max_length=36, pattern=r"^msg_[0-9a-f]{32}$")]
EventTypes = Annotated[
    list[CallbackType], Field(min_length=1, max_length=len(CALLBACK_TYPES), json_schema_extra={"uniqueItems": True})
]
ScopeName = Annotated[str, free_text(64)]
"""An agency or jurisdiction as the caller's token names it."""


class EndpointRequest(BaseModel):
    """An endpoint to register: where to send, which changes, and a note for the administrators."""

    model_config = ConfigDict(extra="forbid")

    url: Url = Field(
        description="Where the messages are POSTed: https:// with a host that resolves only to public addresses; "
        "no credentials, no fragment (http:// and private addresses in development only)."
    )
    event_types: EventTypes | None = Field(
        None,
        description="The changes to send, each once; every type the caller's audience may receive when left out "
        "(a prosecutor's office: lapsed, warrant_requested, warrant_rescinded and withdrawn only).",
    )
    description: Annotated[str, free_text(200)] | None = Field(None, description="What the endpoint is, for people.")

    @field_validator("event_types")
    @classmethod
    def _each_once(cls, event_types: list[str] | None) -> list[str] | None:
        if event_types is not None and len(set(event_types)) != len(event_types):
            raise ValueError("name each event type once")
        return event_types


class SecretSummary(BaseModel):
    """A live signing secret, never its value: when it was made and when it stops signing."""

    created_at: datetime
    expires_at: datetime | None = Field(description="Null for the newest secret: it signs until the next rotation.")


class HistoryEntry(BaseModel):
    """Something that happened to the endpoint, and who or what did it."""

    kind: Annotated[str, StringConstraints(max_length=32, pattern=CODE_PATTERN)] = Field(
        description="`registered`, `secret_rotated`, `disabled`, `enabled`, `redelivery_requested`, ..."
    )
    at: datetime
    actor: Annotated[str, free_text(200)] = Field(description="The token subject, or Divert's delivery process.")
    detail: Annotated[str, free_text(300)] | None


class EndpointView(BaseModel):
    """A registered endpoint: where and what it receives, its state, its live secrets and its history."""

    endpoint_id: UUID
    url: Url
    audience: Audience = Field(
        description="`agency`: the changes of the agency's referrals; `jurisdiction`: of every referral there."
    )
    agency: ScopeName | None = Field(description="The RMS agency whose referrals it hears of; null for a jurisdiction.")
    jurisdiction: ScopeName
    event_types: list[CallbackType] = Field(max_length=len(CALLBACK_TYPES))
    description: Annotated[str, free_text(200)] | None
    status: Literal["active", "disabled"] = Field(
        description="Messages to a disabled endpoint are still written and held until it is enabled."
    )
    created_at: datetime
    last_success_at: datetime | None
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: Annotated[str, free_text(300)] | None
    secrets: list[SecretSummary] = Field(max_length=MAX_LIVE_SECRETS, description="Newest first.")
    history: list[HistoryEntry] = Field(max_length=MAX_HISTORY, description=f"The newest {MAX_HISTORY}, in order.")


class RegisteredEndpoint(EndpointView):
    """The registered endpoint and its signing secret."""

    secret: Secret | None = Field(
        description="Verify each message's `webhook-signature` with it. Shown in this answer only: a retry with "
        "the same `Idempotency-Key` gets null (rotate the secret to get a new one)."
    )


class EndpointList(BaseModel):
    """The endpoints of the caller's scope, oldest first."""

    items: list[EndpointView] = Field(max_length=MAX_ENDPOINTS)


class RotatedSecret(BaseModel):
    """The endpoint with its new secret; the previous ones keep signing beside it for a while."""

    endpoint: EndpointView
    secret: Secret | None = Field(
        description="The new secret, shown in this answer only (null on a retry with the same `Idempotency-Key`)."
    )
    previous_secrets_expire_at: datetime | None = Field(
        description="Until then messages carry a signature of the previous secrets too (null once none is left)."
    )


class AttemptView(BaseModel):
    """One attempt to deliver a message, and what came of it."""

    attempted_at: datetime
    duration_ms: int = Field(ge=0, le=3_600_000)
    status_code: int | None = Field(ge=100, le=599, description="The receiver's status; null without an answer.")
    outcome: Annotated[str, StringConstraints(max_length=32, pattern=CODE_PATTERN)] = Field(
        description=(
            "`delivered` (a 2xx), `rejected` (another status), `gone` (410), `timeout`, `unreachable`, "
            "`refused_target` (the address was not allowed), `unsigned` (no configured key opened the secret)"
        )
    )
    error: Annotated[str, free_text(300)] | None


class MessageView(BaseModel):
    """A status change sent (or to be sent) to the endpoint."""

    message_id: MessageId = Field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    event_type: CallbackType
    referral_id: UUID
    sequence: int = Field(ge=1, le=1_000_000_000, description="Grows with every change of the referral.")
    status: MessageStatus = Field(description="`failed`: every attempt of its schedule failed (redeliver it).")
    attempts: int = Field(ge=0, le=1_000_000, description="Attempts of the current round.")
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class MessageDetail(MessageView):
    """A message with the exact body sent and every attempt."""

    payload: dict[str, Any] = Field(
        description="The JSON body POSTed: `type`, `timestamp` and `data` (status, ids and instants only)."
    )
    attempts_made: list[AttemptView] = Field(max_length=MAX_ATTEMPTS, description=f"The newest {MAX_ATTEMPTS}.")


class MessagePage(BaseModel):
    """One page of the endpoint's messages, newest first; pass `next_cursor` as `cursor` for the next."""

    items: list[MessageView] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None
