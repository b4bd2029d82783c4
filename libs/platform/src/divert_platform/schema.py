"""Tables every service has: event store, outbox, inbox and idempotency keys.

Services create them in their first Alembic migration with `create_platform_tables_v1`. The
function is frozen like a migration: a later change to these tables is a new function and a new
migration, never an edit here.
"""

from alembic import op
from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB

from divert_platform.columns import UtcDateTime

metadata = MetaData()

_Json = JSON().with_variant(JSONB(), "postgresql")
_Position = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only

events = Table(
    "events",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=True),
    Column("stream_id", String(64), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(200), nullable=False),
    Column("data", _Json, nullable=False),
    Column("metadata", _Json, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("message_key", String(200), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("data", _Json, nullable=False),
    Column("traceparent", String(100)),
    Column("tracestate", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, index=True),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("source", String(200), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


def create_platform_tables_v1() -> None:
    """Create the platform tables inside an Alembic migration."""
    bind = op.get_bind()
    metadata.create_all(bind, tables=[events, outbox, inbox, idempotency_keys])


def drop_platform_tables_v1() -> None:
    """Drop what `create_platform_tables_v1` created."""
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[events, outbox, inbox, idempotency_keys])
