"""Who may put what on which topic, and who may read it: the data plane's access rules, declared once.

Three things are derived from this module and nothing else:

- the consumers' provenance check (`accepts`): a record is applied only when its topic is declared,
  its CloudEvents `source` is the topic's producer and its `type` is one the topic carries;
- each service's Kafka principal and its ACLs (`acls`), which `deploy/` creates under KRaft's
  StandardAuthorizer (`deploy/compose/kafka/create-acls.sh`, kept in sync by `make contracts`);
- LEAD's golden rule in the data plane: enforcement-side services subscribe only to topics whose
  events carry no case content (`case_content_fields`, checked by `contracts/tests`).

Each service's consumer subscribes to exactly `service(name).consumes` (its `TOPICS`), so the ACLs
a principal gets are the ones its code uses.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from divert_contracts.registry import EVENT_TYPES
from divert_contracts.topics import ALL_TOPICS, CASE_MILESTONES, CASES, REFERRALS, WARRANTS, Topic, by_name

Side = Literal["case_agency", "enforcement"]
"""Which side of LEAD's golden rule a service stands on: case agencies hold case content;
police, prosecutors and courts (and the services that serve them) never see it."""


@dataclass(frozen=True)
class ServiceAccess:
    """One service's place in the data plane: what it produces, what it consumes, as whom."""

    name: str
    side: Side
    consumes: tuple[Topic, ...]

    @property
    def principal(self) -> str:
        """The Kafka principal (SASL user) every process of the service authenticates as."""
        return f"divert-{self.name}"

    @property
    def produces(self) -> tuple[Topic, ...]:
        """The topics whose declared producer is this service."""
        return tuple(topic for topic in ALL_TOPICS if topic.producer == self.name)

    @property
    def consumer_group(self) -> str:
        """The consumer group of `divert-<service> consumer`."""
        return f"divert-{self.name}"

    @property
    def relay_marker_group(self) -> str:
        """The group whose committed offset tells the relay the broker kept its state."""
        return f"divert-{self.name}-relay-marker"


SERVICES: tuple[ServiceAccess, ...] = (
    # Intake reads its own referrals (to start deadlines), case milestones and warrant events for
    # the police-facing status view: enforcement side, so never `divert.cases`.
    ServiceAccess("intake", "enforcement", (REFERRALS, CASE_MILESTONES, WARRANTS)),
    ServiceAccess("assessment", "case_agency", (REFERRALS,)),
    ServiceAccess("directory", "case_agency", (CASES,)),
    ServiceAccess("warrants", "enforcement", (REFERRALS, CASE_MILESTONES)),
)


def service(name: str) -> ServiceAccess:
    """The declared access of service `name` (`intake`, `assessment`, `directory`, `warrants`)."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


@cache
def event_types_on(topic_name: str) -> frozenset[str]:
    """The CloudEvents types a topic carries: those of the contract models declared on it."""
    return frozenset(model.event_type for model in EVENT_TYPES.values() if model.topic == topic_name)


def refusal(topic_name: str, source: str, event_type: str) -> str | None:
    """Why a record on `topic_name` claiming `source` and `event_type` must not be applied, or None.

    The reason names only the declared facts it contradicts (no payload, no personal data).
    """
    try:
        topic = by_name(topic_name)
    except KeyError:
        return f"topic {topic_name} is not declared in divert_contracts.topics"
    if not topic.producer:
        return f"{topic_name} is a dead-letter topic: nothing on it is applied"
    if source != topic.source:
        return f"source {source!r} is not {topic_name}'s producer ({topic.source})"
    if event_type not in event_types_on(topic_name):
        return f"type {event_type!r} is not carried on {topic_name}"
    return None


# Fields that hold what a person told their case manager or what the case agency did for them.
# None of them may reach a topic an enforcement-side service reads.
CASE_CONTENT_FIELDS: frozenset[str] = frozenset(
    {
        "needs",
        "need",
        "part2",
        "consent_id",
        "parties",
        "purpose",
        "scope",
        "contact_id",
        "method",
        "outcome",
        "first_made",
        "engagement",
        "case_manager_id",
        "service_id",
        "service_referral_id",
        "organization_id",
    }
)


def _field_names(schema: dict[str, Any], definitions: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for name, field in schema.get("properties", {}).items():
        names.add(name)
        for ref in _refs(field):
            names |= _field_names(definitions[ref.rsplit("/", 1)[-1]], definitions)
    return names


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def case_content_fields(topic_name: str) -> dict[str, frozenset[str]]:
    """For each event type on the topic, the case-content fields its schema has (nested ones too)."""
    found = {}
    for model in EVENT_TYPES.values():
        if model.topic != topic_name:
            continue
        schema = model.model_json_schema()
        content = _field_names(schema, schema.get("$defs", {})) & CASE_CONTENT_FIELDS
        if content:
            found[model.event_type] = frozenset(content)
    return found


Operation = Literal["Read", "Write", "Describe"]


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operation` on the topic or group `resource`."""

    principal: str
    resource_type: Literal["topic", "group"]
    resource: str
    operation: Operation


def acls(declared: tuple[ServiceAccess, ...] = SERVICES) -> list[Acl]:
    """Every allow rule the services need, and nothing more (Kafka denies the rest).

    - Producer: Write and Describe on its topics; Read too, and its relay's marker group, because
      the relay reads end offsets and commits a marker there to notice a broker that lost its state.
    - Consumer: Read and Describe on what it consumes and its group; Write and Describe on those
      topics' dead-letter topics, which it alone feeds. A dead-letter topic is readable by exactly
      who may read its source topic: it holds copies of that topic's records.
    Topics are created by the deploy's admin job, never by a service (no Create rule).
    """
    rules: set[Acl] = set()
    for entry in declared:
        user = f"User:{entry.principal}"
        for topic in entry.produces:
            rules |= {Acl(user, "topic", topic.name, operation) for operation in ("Write", "Describe", "Read")}
            rules.add(Acl(user, "group", entry.relay_marker_group, "Read"))
        for topic in entry.consumes:
            rules |= {Acl(user, "topic", topic.name, operation) for operation in ("Read", "Describe")}
            rules |= {Acl(user, "topic", topic.dead_letter.name, op) for op in ("Write", "Describe", "Read")}
        if entry.consumes:
            rules.add(Acl(user, "group", entry.consumer_group, "Read"))
    return sorted(rules)


def acl_script(declared: tuple[ServiceAccess, ...] = SERVICES) -> str:
    """A POSIX shell script that creates `acls()` with `kafka-acls.sh` (generated; idempotent)."""
    lines = [
        "#!/bin/sh",
        "# GENERATED by `make contracts` from contracts/src/divert_contracts/dataplane.py: do not edit.",
        "# Per-service Kafka ACLs for KRaft's StandardAuthorizer: each service's principal may use exactly",
        "# the topics and groups its code uses (docs/access.md#kafka-principals-and-acls).",
        "# Adding an ACL that exists is a no-op.",
        "#",
        "# Environment: KAFKA_BOOTSTRAP (required), KAFKA_COMMAND_CONFIG (the admin client's properties file).",
        "set -eu",
        "",
        ': "${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP}"',
        'KAFKA_ACLS="${KAFKA_ACLS_SH:-/opt/kafka/bin/kafka-acls.sh}"',
        "",
        "allow() {",
        "  # $1 principal, $2 topic|group, $3 resource name, $4 operation",
        '  set -- "$1" "$2" "$3" "$4" --bootstrap-server "$KAFKA_BOOTSTRAP"',
        '  if [ -n "${KAFKA_COMMAND_CONFIG:-}" ]; then',
        '    set -- "$@" --command-config "$KAFKA_COMMAND_CONFIG"',
        "  fi",
        '  principal="$1" kind="$2" name="$3" operation="$4"',
        "  shift 4",
        '  "$KAFKA_ACLS" "$@" --add --allow-principal "$principal" --operation "$operation" \\',
        '    "--$kind" "$name" --resource-pattern-type literal',
        "}",
        "",
    ]
    lines += [f"allow {a.principal} {a.resource_type} {a.resource} {a.operation}" for a in acls(declared)]
    return "\n".join(lines) + "\n"
