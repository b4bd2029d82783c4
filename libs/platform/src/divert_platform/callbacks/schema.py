"""The callback tables: endpoints, their history, messages and attempts.

A service creates them in an Alembic migration with `create_callback_tables_v1`; like the other
platform tables the function is frozen, and a change is a new function and a new migration.
"""

from alembic import op
from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB

from divert_platform.columns import UtcDateTime

metadata = MetaData()

_Json = JSON().with_variant(JSONB(), "postgresql")
_Position = BigInteger().with_variant(Integer(), "sqlite")

callback_endpoints = Table(
    "callback_endpoints",
    metadata,
    Column("endpoint_id", String(36), primary_key=True),
    Column("audience", String(16), nullable=False),
    Column("agency", String(64)),
    Column("jurisdiction", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("event_types", _Json, nullable=False),
    Column("description", String(200)),
    Column("status", String(16), nullable=False),
    Column("secrets", _Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("last_success_at", UtcDateTime),
    Column("failing_since", UtcDateTime),
    Column("disabled_at", UtcDateTime),
    Column("disabled_reason", String(300)),
    Index("ix_callback_endpoints_jurisdiction", "jurisdiction", "status"),
)
"""`secrets` is a list of `{sealed, created_at, expires_at}`, newest first; `sealed` is the
`SecretBox` ciphertext, never the secret."""

callback_endpoint_events = Table(
    "callback_endpoint_events",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=True),
    Column("endpoint_id", String(36), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("detail", String(300)),
)

callback_messages = Table(
    "callback_messages",
    metadata,
    Column("message_id", String(40), primary_key=True),
    Column("endpoint_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("payload", _Json, nullable=False),
    Column("traceparent", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_attempt_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    UniqueConstraint("endpoint_id", "event_id", name="uq_callback_messages_endpoint_event"),
    Index("ix_callback_messages_due", "status", "next_attempt_at"),
    Index("ix_callback_messages_order", "endpoint_id", "subject", "sequence"),
)
"""One row per status change per endpoint: `status` is `pending`, `delivered` or `failed`
(its schedule ran out); `attempts` counts the attempts of the current round (a redelivery
starts a new one)."""

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False, index=True),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("outcome", String(32), nullable=False),
    Column("error", String(300)),
)

CALLBACK_TABLES = (callback_endpoints, callback_endpoint_events, callback_messages, callback_attempts)


def create_callback_tables_v1() -> None:
    """Create the callback tables inside an Alembic migration."""
    metadata.create_all(op.get_bind(), tables=list(CALLBACK_TABLES))


def drop_callback_tables_v1() -> None:
    """Drop what `create_callback_tables_v1` created."""
    metadata.drop_all(op.get_bind(), tables=list(CALLBACK_TABLES))
