"""Tables every service has: event store, outbox, inbox and idempotency keys.

Services create them in their first Alembic migration with `create_platform_tables_v1`. The
function is frozen like a migration: a later change to these tables is a new function and a new
migration, never an edit here.
"""

from typing import Any

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
    # Keyed by where the event was read, not by the `source` it claims: a record's `source` is
    # whatever its writer put there, so the same event re-sent under another one must still be a
    # duplicate (and the consumer's provenance check refuses a source that is not the topic's).
    Column("consumer", String(100), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("source", String(200), nullable=False),
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


# The inbox as `create_platform_tables_v1` made it (keyed by the claimed `source`); frozen.
_inbox_v1_columns = (
    ("consumer", String(100), True),
    ("source", String(200), True),
    ("event_id", String(36), True),
    ("topic", String(200), False),
    ("partition", Integer, False),
    ("offset", BigInteger, False),
    ("processed_at", UtcDateTime, False),
)


def _inbox_table(name: str, columns: tuple[tuple[str, Any, bool], ...]) -> Table:
    return Table(
        name,
        MetaData(),
        *(Column(column, kind, primary_key=key, nullable=False) for column, kind, key in columns),
    )


def create_platform_tables_v1() -> None:
    """Create the platform tables inside an Alembic migration."""
    bind = op.get_bind()
    metadata.create_all(bind, tables=[events, outbox, idempotency_keys])
    _inbox_table("inbox", _inbox_v1_columns).create(bind)


def drop_platform_tables_v1() -> None:
    """Drop what `create_platform_tables_v1` created."""
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[events, outbox, idempotency_keys])
    op.drop_table("inbox")


_inbox_v2_columns = (
    ("consumer", String(100), True),
    ("topic", String(200), True),
    ("event_id", String(64), True),
    ("source", String(200), False),
    ("partition", Integer, False),
    ("offset", BigInteger, False),
    ("processed_at", UtcDateTime, False),
)
_INBOX_COLUMNS = '"consumer", "topic", "event_id", "source", "partition", "offset", "processed_at"'


def key_inbox_by_topic_v2() -> None:
    """Re-key the inbox by `(consumer, topic, event_id)` (it was keyed by the claimed `source`).

    Rows are copied; should the old key have let one event in twice under two sources, one row is
    kept (each column's least value: which source or offset it names matters to nobody).
    """
    bind = op.get_bind()
    _inbox_table("inbox_v2", _inbox_v2_columns).create(bind)
    op.execute(
        f"INSERT INTO inbox_v2 ({_INBOX_COLUMNS}) "
        'SELECT "consumer", "topic", "event_id", MIN("source"), MIN("partition"), MIN("offset"), MIN("processed_at") '
        'FROM inbox GROUP BY "consumer", "topic", "event_id"'
    )
    op.drop_table("inbox")
    op.rename_table("inbox_v2", "inbox")


def key_inbox_by_source_v1() -> None:
    """Undo `key_inbox_by_topic_v2` (events read under two topics keep the earliest row)."""
    bind = op.get_bind()
    _inbox_table("inbox_v1", _inbox_v1_columns).create(bind)
    op.execute(
        f"INSERT INTO inbox_v1 ({_INBOX_COLUMNS}) "
        'SELECT "consumer", MIN("topic"), "event_id", "source", MIN("partition"), MIN("offset"), MIN("processed_at") '
        'FROM inbox WHERE length("event_id") <= 36 GROUP BY "consumer", "source", "event_id"'
    )
    op.drop_table("inbox")
    op.rename_table("inbox_v1", "inbox")
