"""Generate the published contract documents: one JSON Schema per event and an AsyncAPI 3.0 file.

`python -m divert_contracts.schemas` rewrites them; `--check` fails if the checked-in files differ
from the models (CI runs it, so documents never drift from code).
"""

import json
import sys
from pathlib import Path
from typing import Any

from divert_contracts.registry import EVENT_TYPES
from divert_contracts.topics import ALL_TOPICS

OUTPUT = Path(__file__).parent
PRODUCERS = {
    "divert.referrals": "intake",
    "divert.cases": "assessment",
    "divert.warrants": "warrants",
    "divert.directory": "services-directory",
}


def _message_name(event_type: str) -> str:
    return event_type.removeprefix("org.divert.").replace(".", "_")


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of each event's data."""
    return {f"{event_type}.json": model.model_json_schema() for event_type, model in EVENT_TYPES.items()}


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic, message and producing operation."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        channel_id = topic.name.replace(".", "_")
        channel_messages = {}
        for event_type, model in EVENT_TYPES.items():
            if model.topic != topic.name:
                continue
            name = _message_name(event_type)
            messages[name] = {
                "name": name,
                "title": event_type,
                "summary": (model.__doc__ or "").strip().splitlines()[0],
                "contentType": "application/json",
                "traits": [{"$ref": "#/components/messageTraits/cloudEventsBinary"}],
                "payload": {"$ref": f"./schemas/{event_type}.json"},
                "bindings": {"kafka": {"key": {"type": "string", "format": "uuid", "description": "referral id"}}},
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": topic.name,
            "messages": channel_messages,
            "bindings": {"kafka": {"topic": topic.name, "partitions": topic.partitions}},
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "summary": f"{PRODUCERS[topic.name]} publishes through its transactional outbox",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Divert events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary content mode; key = referral id. "
            "Delivery is at least once: de-duplicate by (ce_source, ce_id).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "messageTraits": {
                "cloudEventsBinary": {
                    "headers": {
                        "type": "object",
                        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"],
                        "properties": {
                            "ce_specversion": {"type": "string", "const": "1.0"},
                            "ce_id": {"type": "string", "format": "uuid"},
                            "ce_source": {"type": "string", "description": "/divert/<service>"},
                            "ce_type": {"type": "string", "description": "org.divert.<aggregate>.<event>.v<N>"},
                            "ce_time": {"type": "string", "format": "date-time"},
                            "ce_subject": {"type": "string", "description": "referrals/<referral id>"},
                            "content-type": {"type": "string", "const": "application/json"},
                            "traceparent": {"type": "string", "description": "W3C trace context"},
                        },
                    }
                }
            },
        },
    }


def documents() -> dict[Path, str]:
    """Every generated file with its content."""
    files = {OUTPUT / "schemas" / name: schema for name, schema in json_schemas().items()}
    files[OUTPUT / "asyncapi.json"] = asyncapi()
    return {path: json.dumps(body, indent=2, sort_keys=True) + "\n" for path, body in files.items()}


def main(argv: list[str]) -> int:
    """Write the documents, or with `--check` report those that are stale."""
    stale = [path for path, text in documents().items() if not path.exists() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale contract document: {path.name} (run `make contracts`)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in documents().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(documents())} contract documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
