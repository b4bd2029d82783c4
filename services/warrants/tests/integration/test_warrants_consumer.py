"""The consumer against a real broker: a `case.assessment_completed` record produced to
`divert.cases` rescinds the referral's request, through the platform's ConsumerRunner and inbox."""

import asyncio
from uuid import uuid4

from divert_contracts.topics import CASES, REFERRALS
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import inbox, outbox
from divert_platform.testing import produce, records_keyed
from divert_warrants.entrypoints.consumer import GROUP_ID, HANDLERS, TOPICS


async def test_an_on_time_assessment_record_rescinds_the_request(
    kafka_bootstrap, warrants, client, make_lapse, make_assessment_completed, rows, due, service, prosecutor
) -> None:
    assert {topic.name for topic in TOPICS} == {CASES.name, REFERRALS.name}
    await ensure_topics(kafka_bootstrap, [CASES])
    request = (await client.post("/v1/warrant-requests", json=make_lapse(), headers=service)).json()
    assessed = make_assessment_completed(request["referral_id"], due)
    redelivered_id = str(uuid4())
    await produce(
        kafka_bootstrap, assessed, source="/divert/assessment", event_ids=[redelivered_id, redelivered_id]
    )  # one record delivered twice
    records = await records_keyed(kafka_bootstrap, CASES.name, assessed.partition_key, 2)

    dead_letters = create_producer(kafka_bootstrap, "warrants-test-dlq")
    await dead_letters.start()
    try:
        runner = ConsumerRunner(
            group_id=GROUP_ID,
            bootstrap=kafka_bootstrap,
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

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=prosecutor)).json()
    assert (view["status"], view["rescission_reason"]) == ("rescinded", "assessed_before_deadline")
    assert [row["event_type"] for row in await rows(outbox, outbox.c.message_key == request["referral_id"])] == [
        "org.divert.warrant.requested.v1",
        "org.divert.warrant.request_rescinded.v1",
    ]
    assert [row["event_id"] for row in await rows(inbox, inbox.c.consumer == GROUP_ID)] == [redelivered_id]
