"""The data plane's declaration (`divert_contracts.dataplane`): provenance, LEAD's golden rule on
the topics, and the ACLs every principal gets."""

from collections import defaultdict

import pytest

from divert_contracts import dataplane
from divert_contracts.dataplane import SERVICES, acls, case_content_fields, event_types_on, refusal, service
from divert_contracts.registry import EVENT_TYPES
from divert_contracts.topics import ALL_TOPICS, CASE_MILESTONES, CASES, DIRECTORY, REFERRALS, WARRANTS, by_name


def test_every_event_type_is_carried_by_exactly_one_declared_topic_with_one_producer() -> None:
    carried = [event_type for topic in ALL_TOPICS for event_type in event_types_on(topic.name)]
    assert sorted(carried) == sorted(EVENT_TYPES)
    assert all(topic.producer in {entry.name for entry in SERVICES} for topic in ALL_TOPICS)


ENFORCEMENT_SIDE = [entry for entry in SERVICES if entry.side == "enforcement"]


@pytest.mark.parametrize("entry", ENFORCEMENT_SIDE, ids=lambda entry: entry.name)
def test_enforcement_side_services_read_no_topic_that_carries_case_content(entry: dataplane.ServiceAccess) -> None:
    for topic in entry.consumes:
        assert case_content_fields(topic.name) == {}, f"{entry.name} reads case content on {topic.name}"


def test_the_golden_rule_check_sees_case_content_where_it_is() -> None:
    """The check above could pass by finding nothing anywhere: it must find the content that exists."""
    on_cases = case_content_fields(CASES.name)
    assert on_cases["org.divert.case.assessment_completed.v1"] >= {"needs", "part2"}
    assert "parties" in on_cases["org.divert.case.consent_recorded.v1"]
    assert case_content_fields(DIRECTORY.name)  # service referrals name a need and a provider
    assert case_content_fields(CASE_MILESTONES.name) == {}


def test_a_prosecutors_disposition_is_carried_on_divert_warrants_without_case_content() -> None:
    disposed = "org.divert.warrant.request_disposed.v1"
    assert disposed in event_types_on(WARRANTS.name)
    assert refusal(WARRANTS.name, "/divert/warrants", disposed) is None  # intake's consumer applies it
    assert WARRANTS in service("intake").consumes and case_content_fields(WARRANTS.name) == {}
    # `disposition`, not `outcome`: a contact's outcome is case content, so that name would be caught.
    assert "outcome" in dataplane.CASE_CONTENT_FIELDS
    assert "disposition" in EVENT_TYPES[disposed].model_fields


def test_an_approval_request_is_carried_on_divert_referrals_for_intakes_own_consumer_without_personal_data() -> None:
    requested = "org.divert.referral.approval_requested.v1"
    assert requested in event_types_on(REFERRALS.name)
    assert refusal(REFERRALS.name, "/divert/intake", requested) is None  # intake's consumer starts the approval timer
    assert REFERRALS in service("intake").consumes
    # Status only: assessment and warrants read the topic too, so neither the subject nor a reason.
    assert not {"subject", "rms", "location", "reasons"} & EVENT_TYPES[requested].model_fields.keys()


def test_enforcement_side_services_are_declared_as_such() -> None:
    assert {entry.name for entry in SERVICES if entry.side == "enforcement"} == {"intake", "warrants"}
    assert CASES not in service("warrants").consumes and CASES not in service("intake").consumes


@pytest.mark.parametrize(
    ("topic", "source", "event_type", "reason"),
    [
        (REFERRALS.name, "/divert/intake", "org.divert.referral.accepted.v1", None),
        (CASE_MILESTONES.name, "/divert/assessment", "org.divert.case_milestone.assessed.v1", None),
        (REFERRALS.name, "/divert/assessment", "org.divert.referral.accepted.v1", "is not divert.referrals's producer"),
        (REFERRALS.name, "/divert/intake", "org.divert.warrant.requested.v1", "is not carried on divert.referrals"),
        (CASES.name, "/divert/assessment", "org.divert.case_milestone.assessed.v1", "is not carried on divert.cases"),
        (WARRANTS.name, "/divert/intake", "org.divert.warrant.requested.v1", "is not divert.warrants's producer"),
        ("divert.elsewhere", "/divert/intake", "org.divert.referral.accepted.v1", "is not declared"),
        (REFERRALS.dead_letter.name, "/divert/intake", "org.divert.referral.accepted.v1", "dead-letter topic"),
    ],
)
def test_a_record_is_applied_only_from_its_topics_producer_and_with_a_type_the_topic_carries(
    topic: str, source: str, event_type: str, reason: str | None
) -> None:
    refused = refusal(topic, source, event_type)
    if reason is None:
        assert refused is None
    else:
        assert refused is not None and reason in refused


def test_every_principal_gets_exactly_what_its_service_produces_and_consumes() -> None:
    granted: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for acl in acls():
        granted[acl.principal].add((acl.resource_type, acl.resource, acl.operation))
    assert set(granted) == {f"User:divert-{entry.name}" for entry in SERVICES}
    warrants = granted["User:divert-warrants"]
    assert ("topic", "divert.warrants", "Write") in warrants
    assert ("topic", "divert.referrals", "Read") in warrants and ("group", "divert-warrants", "Read") in warrants
    assert not {acl for acl in warrants if acl[1] in (CASES.name, CASES.dead_letter.name)}
    assert not {acl for acl in warrants if acl[2] == "Write" and acl[1] != "divert.warrants" and ".dlq" not in acl[1]}
    for principal, rules in granted.items():  # nobody but a topic's producer writes it
        for kind, name, operation in rules:
            if kind == "topic" and operation == "Write" and not name.endswith(".dlq"):
                assert f"User:divert-{by_name(name).producer}" == principal


def test_a_dead_letter_topic_is_read_by_exactly_who_reads_its_source_topic() -> None:
    readers: dict[str, set[str]] = defaultdict(set)
    for acl in acls():
        if acl.resource_type == "topic" and acl.operation == "Read":
            readers[acl.resource].add(acl.principal)
    for topic in ALL_TOPICS:
        consumers = {f"User:{entry.principal}" for entry in SERVICES if topic in entry.consumes}
        assert readers[topic.dead_letter.name] == consumers
        assert readers[topic.name] - {f"User:divert-{topic.producer}"} == consumers - {f"User:divert-{topic.producer}"}
