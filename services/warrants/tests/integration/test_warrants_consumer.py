"""The consumer against a real broker: intake's acceptance and lapse on `divert.referrals` and the
assessment milestone on `divert.case-milestones` reach warrants' own record through the platform's
ConsumerRunner and inbox; the lapse notice then raises a request the on-time milestone rescinds.
Warrants subscribes to what `divert_contracts.dataplane` declares for it, never `divert.cases`."""

import asyncio
from collections.abc import Sequence
from uuid import uuid4

from aiokafka import ConsumerRecord

from divert_contracts import dataplane
from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.topics import CASE_MILESTONES, CASES, REFERRALS
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import inbox, outbox
from divert_platform.testing import produce, records_keyed
from divert_warrants.bootstrap import Warrants
from divert_warrants.entrypoints.consumer import GROUP_ID, HANDLERS, TOPICS

REQUESTED = "org.divert.warrant.requested.v1"


async def handle(bootstrap: str, warrants: Warrants, records: Sequence[ConsumerRecord]) -> None:
    """Hand `records` to warrants' ConsumerRunner, one by one, as its poll loop would."""
    dead_letters = create_producer(bootstrap, "warrants-test-dlq")
    await dead_letters.start()
    try:
        runner = ConsumerRunner(
            group_id=GROUP_ID,
            bootstrap=bootstrap,
            topics=TOPICS,
            handlers=HANDLERS,
            unit_of_work=warrants.unit_of_work,
            dead_letters=dead_letters,
        )
        stop = asyncio.Event()
        stop.set()  # a handler failure then raises here instead of being retried forever
        for record in records:
            await runner.handle(record, stop)
    finally:
        await dead_letters.stop()


def test_warrants_subscribes_to_its_declared_topics_only() -> None:
    assert TOPICS == dataplane.service("warrants").consumes
    assert GROUP_ID == dataplane.service("warrants").consumer_group == "divert-warrants"
    assert [topic.name for topic in TOPICS] == [REFERRALS.name, CASE_MILESTONES.name]
    assert CASES not in TOPICS
    # Every event warrants handles is carried on a topic it subscribes to: none on `divert.cases`.
    assert {model.topic for model in HANDLERS} == {REFERRALS.name, CASE_MILESTONES.name}
    assert CaseAssessmentCompleted not in HANDLERS


async def test_referral_events_and_the_milestone_drive_the_request(
    kafka_bootstrap,
    warrants,
    client,
    make_lapse,
    make_referral_accepted,
    make_deadline_lapsed,
    make_case_assessed,
    rows,
    due,
    deadline_worker,
    prosecutor,
) -> None:
    await ensure_topics(kafka_bootstrap, [REFERRALS, CASE_MILESTONES])
    body = make_lapse()
    referral_id = body["referral_id"]
    accepted_id, lapsed_id, assessed_id = str(uuid4()), str(uuid4()), str(uuid4())
    await produce(kafka_bootstrap, make_referral_accepted(body), source="/divert/intake", event_ids=[accepted_id])
    await produce(kafka_bootstrap, make_deadline_lapsed(body), source="/divert/intake", event_ids=[lapsed_id])
    await handle(kafka_bootstrap, warrants, await records_keyed(kafka_bootstrap, REFERRALS.name, referral_id, 2))

    created = await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)
    assert created.status_code == 201, created.text
    request = created.json()

    assessed = make_case_assessed(referral_id, due)
    await produce(
        kafka_bootstrap, assessed, source="/divert/assessment", event_ids=[assessed_id, assessed_id]
    )  # one record delivered twice
    await handle(kafka_bootstrap, warrants, await records_keyed(kafka_bootstrap, CASE_MILESTONES.name, referral_id, 2))

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=prosecutor)).json()
    assert (view["status"], view["rescission_reason"]) == ("rescinded", "assessed_before_deadline")
    assert [row["event_type"] for row in await rows(outbox, outbox.c.message_key == request["referral_id"])] == [
        "org.divert.warrant.requested.v1",
        "org.divert.warrant.request_rescinded.v1",
    ]
    applied = [row["event_id"] for row in await rows(inbox, inbox.c.consumer == GROUP_ID)]
    assert sorted(applied) == sorted([accepted_id, lapsed_id, assessed_id])  # the redelivery applied once


async def test_a_case_event_on_divert_cases_changes_nothing_even_if_delivered(
    kafka_bootstrap, warrants, client, make_lapsed, rows, due, deadline_worker, prosecutor
) -> None:
    await ensure_topics(kafka_bootstrap, [CASES])
    request = (await client.post("/v1/warrant-requests", json=await make_lapsed(), headers=deadline_worker)).json()
    # On time, and full of case content: what warrants used to act on and must no longer see.
    content = CaseAssessmentCompleted.model_validate(
        {
            "referral_id": request["referral_id"],
            "jurisdiction": "king-county",
            "completed_at": due,
            "assessment_due_by": due,
            "on_time": True,
            "needs": [{"domain": "substance_use_treatment", "priority": 1, "part2": True}],
        }
    )
    event_id = str(uuid4())
    await produce(kafka_bootstrap, content, source="/divert/assessment", event_ids=[event_id])

    await handle(kafka_bootstrap, warrants, await records_keyed(kafka_bootstrap, CASES.name, request["referral_id"], 1))

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=prosecutor)).json()
    assert (view["status"], view["rescission_reason"]) == ("requested", None)
    assert [row["event_type"] for row in await rows(outbox)] == [REQUESTED]
    assert await rows(inbox, inbox.c.event_id == event_id) == []
