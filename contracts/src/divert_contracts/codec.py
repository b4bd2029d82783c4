"""CloudEvents 1.0 in Kafka binary content mode, through the `cloudevents` package.

Headers carry the attributes (`ce_id`, `ce_source`, `ce_type`, `ce_time`, `ce_subject`,
`ce_specversion`, `content-type`); the value is the event's JSON; the key is the referral id.

Decoding is a tolerant reader: fields the reader's model does not know are ignored, at every level
of nesting, so a producer may add an optional field (a new revision of the same `ce_type`, see
`divert_contracts.revisions`) without its events being dead-lettered by readers not yet upgraded.
Every field the model does know is still validated. Producing stays strict: the models forbid
unknown fields, so nothing undeclared is ever published.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from divert_contracts.base import IntegrationEvent
from divert_contracts.registry import EVENT_TYPES

CONTENT_TYPE = "application/json"
_FORMAT = JSONFormat()


class UndecodableMessage(ValueError):
    """A record that is not a CloudEvent Divert knows, or whose data violates its schema."""


@dataclass(frozen=True)
class DecodedEvent:
    """An integration event with the CloudEvents attributes it arrived with."""

    id: str
    source: str
    type: str
    subject: str | None
    time: datetime | None
    event: IntegrationEvent


def encode(
    *,
    event_id: str,
    source: str,
    event_type: str,
    subject: str,
    time: datetime,
    key: str,
    data: dict[str, Any] | str,
) -> kafka.KafkaMessage:
    """Build the Kafka record (headers, key, value) for one event in binary content mode.

    `data` is the event's JSON, as an object or as text already encoded (sent as it is)."""
    cloud_event = CloudEvent(
        attributes={
            "id": event_id,
            "source": source,
            "type": event_type,
            "subject": subject,
            "time": time,
            "datacontenttype": CONTENT_TYPE,
        },
        data=data,
    )
    message = kafka.to_binary(cloud_event, _FORMAT, key_mapper=lambda _: key)
    return message


def decode(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes | None) -> DecodedEvent:
    """Parse a Kafka record into a typed event; raise `UndecodableMessage` saying why not.

    Fields of the data that the event's model does not declare, at any depth, are ignored."""
    header_map = {name: raw for name, raw in headers}
    if "ce_specversion" not in header_map or "ce_type" not in header_map:
        raise UndecodableMessage("not a CloudEvent in binary mode: ce_specversion/ce_type header missing")
    try:
        cloud_event = kafka.from_binary(kafka.KafkaMessage(header_map, key, value or b""), _FORMAT)
    except Exception as error:  # the SDK raises several types for malformed attributes or JSON
        raise UndecodableMessage(f"malformed CloudEvent: {type(error).__name__}") from error
    event_type = cloud_event.get_type()
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise UndecodableMessage(f"unknown event type {event_type!r}")
    data = cloud_event.get_data()
    if not isinstance(data, dict):
        raise UndecodableMessage("event data is not a JSON object")
    try:
        # `extra="ignore"` overrides the models' `extra="forbid"` for this validation only, nested
        # models included: strict when producing, tolerant when reading.
        event = model.model_validate(data, extra="ignore")
    except ValidationError as error:
        # Field paths and rule names only: the offending values may be personal data.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors(include_input=False)
        )
        raise UndecodableMessage(f"{event_type} violates its schema: {problems}") from error
    return DecodedEvent(
        id=cloud_event.get_id(),
        source=cloud_event.get_source(),
        type=event_type,
        subject=cloud_event.get_subject(),
        time=cloud_event.get_time(),
        event=event,
    )
