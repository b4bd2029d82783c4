"""Kafka trust between services: each service's principal may use exactly the topics and groups its
code uses, and nothing more.

`divert_contracts.dataplane` declares what each service consumes and derives the ACLs from it. These
tests hold both sides to it: the ACL scripts deploy/ runs are the generated one and, run against a
fake `kafka-acls.sh`, create exactly `dataplane.acls()`; and the code uses exactly what those ACLs
allow (each consumer's `TOPICS` and `GROUP_ID`, the relay's marker group).
"""

import asyncio
import importlib
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from divert_contracts import dataplane
from divert_contracts.topics import ALL_TOPICS
from divert_platform import roles
from divert_platform.settings import ServiceSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ACL_SCRIPTS = {
    "compose": DEPLOY / "compose" / "kafka" / "create-acls.sh",
    "k8s": DEPLOY / "k8s" / "base" / "kafka-topics" / "create-acls.sh",
}
CONSUMER_MODULES = {
    "intake": "divert_intake.entrypoints.consumer",
    "assessment": "divert_assessment.entrypoints.consumer",
    "directory": "divert_directory.entrypoints.consumer",
    "warrants": "divert_warrants.entrypoints.consumer",
}
SERVICE_NAMES = [entry.name for entry in dataplane.SERVICES]


def run_acl_script(script: Path, tmp_path: Path) -> list[list[str]]:
    """Run an ACL script against a fake `kafka-acls.sh`; the argument lists it was called with."""
    calls = tmp_path / "calls"
    fake = tmp_path / "kafka-acls.sh"
    fake.write_text(
        '#!/bin/sh\nfor argument in "$@"; do printf "%s\\t" "$argument"; done >> "$CALLS"\necho >> "$CALLS"\n'
    )
    fake.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "CALLS": str(calls),
        "KAFKA_ACLS_SH": str(fake),
        "KAFKA_BOOTSTRAP": "kafka-1:9094",
        "KAFKA_COMMAND_CONFIG": "/tmp/admin.properties",
    }
    subprocess.run(["/bin/sh", str(script)], env=env, check=True, capture_output=True)
    return [line.rstrip("\t").split("\t") for line in calls.read_text().splitlines()]


def created_acls(calls: Iterable[list[str]]) -> set[dataplane.Acl]:
    """The allow rules `kafka-acls.sh` calls create; every call must be exactly an allow rule."""
    found = set()
    for call in calls:
        assert call[:4] == ["--bootstrap-server", "kafka-1:9094", "--command-config", "/tmp/admin.properties"], call
        assert call[4:6] == ["--add", "--allow-principal"] and call[7] == "--operation", call
        assert call[9] in ("--topic", "--group") and call[11:] == ["--resource-pattern-type", "literal"], call
        found.add(dataplane.Acl(call[6], call[9].removeprefix("--"), call[10], call[8]))
    return found


def by_principal(acls: Iterable[dataplane.Acl]) -> dict[str, set[dataplane.Acl]]:
    grouped: dict[str, set[dataplane.Acl]] = defaultdict(set)
    for acl in acls:
        grouped[acl.principal].add(acl)
    return dict(grouped)


def readers(acls: Iterable[dataplane.Acl], topic: str) -> set[str]:
    return {a.principal for a in acls if a.resource_type == "topic" and a.resource == topic and a.operation == "Read"}


# ---------------------------------------------------------------- the scripts are the declared ACLs


@pytest.mark.parametrize("where", sorted(ACL_SCRIPTS))
def test_the_acl_script_is_the_generated_one(where: str) -> None:
    # regenerate with `.venv/bin/python -m divert_contracts.schemas` (part of `make contracts`)
    assert ACL_SCRIPTS[where].read_text() == dataplane.acl_script()


@pytest.mark.parametrize("where", sorted(ACL_SCRIPTS))
def test_each_principal_gets_exactly_the_acls_of_its_service(where: str, tmp_path: Path) -> None:
    created = by_principal(created_acls(run_acl_script(ACL_SCRIPTS[where], tmp_path)))
    declared = by_principal(dataplane.acls())
    assert set(created) == {f"User:{entry.principal}" for entry in dataplane.SERVICES}
    for principal, acls in declared.items():
        assert created[principal] == acls, principal


def test_the_acl_check_notices_a_rule_too_many(tmp_path: Path) -> None:
    script = tmp_path / "create-acls.sh"
    script.write_text(dataplane.acl_script() + "allow User:divert-warrants topic divert.cases Read\n")
    created = by_principal(created_acls(run_acl_script(script, tmp_path)))
    assert created["User:divert-warrants"] != by_principal(dataplane.acls())["User:divert-warrants"]


# ---------------------------------------------------------------- the code uses what the ACLs allow


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_consumer_subscribes_to_its_declared_topics_as_its_group(name: str) -> None:
    consumer = importlib.import_module(CONSUMER_MODULES[name])
    declared = dataplane.service(name)
    assert tuple(consumer.TOPICS) == declared.consumes
    assert getattr(consumer, "GROUP_ID", None) == declared.consumer_group


class _Started(Exception):
    """Stops `run_relay` once it has built its clients."""


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_the_relay_keeps_its_marker_and_creates_only_topics_its_acls_allow(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {"ensured": set()}

    async def no_topics(bootstrap: str, topics: Any, *, dead_letters: bool = True, **kwargs: object) -> list[str]:
        for topic in topics:
            seen["ensured"] |= {topic.name, topic.dead_letter.name} if dead_letters else {topic.name}
        return []

    class Offsets:
        def __init__(self, bootstrap: str, client_id: str, *, marker_group: str | None = None, **_: object) -> None:
            seen["marker_group"] = marker_group
            raise _Started

    monkeypatch.setattr(roles, "ensure_topics", no_topics)
    monkeypatch.setattr(roles, "create_producer", lambda *args, **kwargs: object())
    monkeypatch.setattr(roles, "TopicOffsets", Offsets)
    relay = roles.run_relay(
        ServiceSettings(service_name=name),
        None,  # never reached: it stops once its clients are built
        asyncio.Event(),
        access=dataplane.service(name),
    )
    with pytest.raises(_Started):
        asyncio.run(relay)
    assert seen["marker_group"] == dataplane.service(name).relay_marker_group
    # It (re-)creates only topics its principal may see: under ACLs any other looks missing and
    # creating it is refused. And it does create every topic its service writes or reads.
    principal = f"User:{dataplane.service(name).principal}"
    describable = {
        acl.resource
        for acl in dataplane.acls()
        if acl.principal == principal and acl.resource_type == "topic" and acl.operation == "Describe"
    }
    assert seen["ensured"] <= describable
    assert {topic.name for topic in (*dataplane.service(name).produces, *dataplane.service(name).consumes)} <= seen[
        "ensured"
    ]


def test_each_service_signs_in_as_its_declared_principal(service_clis, tools) -> None:
    secure = {
        "DIVERT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "DIVERT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "DIVERT_KAFKA_SASL_PASSWORD": "x",
    }
    signs_in_as = {}
    # The console has no Kafka principal, hence no ACL: it never talks to the brokers.
    for cli in (cli for cli in service_clis.values() if cli.stateful):
        with tools.environment(secure):
            signs_in_as[cli.service] = cli.settings().kafka_sasl_username
    assert signs_in_as == {entry.name: entry.principal for entry in dataplane.SERVICES}


# ---------------------------------------------------------------- what the ACLs keep apart


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda topic: topic.name)
def test_a_dead_letter_topic_is_readable_by_exactly_the_readers_of_its_topic(topic) -> None:
    # Its records are copies of the topic's: the producer reads the topic only to check its own
    # offsets, so it reads the copies only where it is also a consumer.
    acls = dataplane.acls()
    producer = f"User:{dataplane.service(topic.producer).principal}"
    consumers = {f"User:{entry.principal}" for entry in dataplane.SERVICES if topic in entry.consumes}
    assert readers(acls, topic.dead_letter.name) == (readers(acls, topic.name) - {producer}) | (consumers & {producer})
    assert readers(acls, topic.dead_letter.name) == consumers


def test_no_enforcement_side_principal_may_read_case_content() -> None:
    acls = dataplane.acls()
    content_topics = {
        t.name for topic in ALL_TOPICS if dataplane.case_content_fields(topic.name) for t in (topic, topic.dead_letter)
    }
    assert content_topics, "no topic carries case content: the check below would prove nothing"
    for entry in dataplane.SERVICES:
        if entry.side == "enforcement":
            readable = {a.resource for a in acls if a.principal == f"User:{entry.principal}" and a.operation == "Read"}
            assert not readable & content_topics, entry.name


def test_only_the_producer_may_write_a_topic_and_only_its_consumers_its_dead_letters() -> None:
    acls = dataplane.acls()
    for topic in ALL_TOPICS:
        writers = {a.principal for a in acls if a.resource == topic.name and a.operation == "Write"}
        assert writers == {f"User:{dataplane.service(topic.producer).principal}"}, topic.name
        dead_letter_writers = {
            a.principal for a in acls if a.resource == topic.dead_letter.name and a.operation == "Write"
        }
        assert dead_letter_writers == readers(acls, topic.dead_letter.name), topic.name
    assert not [a for a in acls if "*" in a.resource], "no wildcard resources"
