"""Generate the published contract documents: one JSON Schema per event, an AsyncAPI 3.0 file and
the published revisions of every event's schema.

`python -m divert_contracts.schemas` rewrites the schemas and the AsyncAPI file, and records a new
revision of every event whose schema changed additively since its latest published revision; it
refuses (and writes nothing) when a change is not additive. `--check` fails if a checked-in file
differs from the models or a revision is missing (CI runs it, so documents never drift from code).
"""

import json
import sys
from pathlib import Path
from typing import Any

from divert_contracts import dataplane, revisions
from divert_contracts.examples import EXAMPLES
from divert_contracts.registry import EVENT_TYPES
from divert_contracts.topics import ALL_TOPICS

OUTPUT = Path(__file__).parent
ACL_SCRIPTS = (
    OUTPUT.parents[2] / "deploy" / "compose" / "kafka" / "create-acls.sh",
    OUTPUT.parents[2] / "deploy" / "k8s" / "base" / "kafka-topics" / "create-acls.sh",
)
"""The per-service Kafka ACLs, generated from `dataplane` for compose and for Kubernetes (the same file)."""


def _message_name(event_type: str) -> str:
    return event_type.removeprefix("org.divert.").replace(".", "_")


def current_schemas() -> dict[str, dict[str, Any]]:
    """CloudEvents type → JSON Schema of the event's data, as its model declares it now."""
    # Through JSON and back, so that it compares equal to the same schema read from a file.
    return {event_type: json.loads(json.dumps(model.model_json_schema())) for event_type, model in EVENT_TYPES.items()}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of each event's data."""
    return {f"{event_type}.json": schema for event_type, schema in current_schemas().items()}


def example_payloads() -> dict[str, dict[str, Any]]:
    """CloudEvents type → the payload of its example in `divert_contracts.examples`."""
    return {event.event_type: event.model_dump(mode="json") for event in EXAMPLES}


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
            "summary": f"{topic.producer} publishes through its transactional outbox",
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
    documents = {path: revisions.dump(body) for path, body in files.items()}
    if ACL_SCRIPTS[0].parent.is_dir():  # a source checkout (an installed package has no deploy/)
        documents |= dict.fromkeys(ACL_SCRIPTS, dataplane.acl_script())
    return documents


def main(argv: list[str], *, published: Path = revisions.PUBLISHED) -> int:
    """Write the documents and record new revisions, or with `--check` report what is stale."""
    files = documents()
    plan = revisions.plan(current_schemas(), example_payloads(), published)
    if "--check" in argv:
        stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"stale contract document: {path.name} (run `make contracts`)", file=sys.stderr)
        for revision in plan.added():
            print(f"unpublished revision: {revision} (run `make contracts`)", file=sys.stderr)
        for problem in plan.problems:
            print(problem, file=sys.stderr)
        return 1 if stale or plan.new_files or plan.problems else 0
    if plan.problems:
        for problem in plan.problems:
            print(problem, file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    for path, text in {**files, **plan.new_files}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} contract documents; recorded {len(plan.added())} new revisions")
    for revision in plan.added():
        print(f"  {revision}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
