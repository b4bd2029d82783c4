"""The consumer against a real broker: a `case.assessment_completed` record produced to
`divert.cases` rescinds the referral's request, through the platform's ConsumerRunner and inbox."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from divert_contracts import codec
from divert_contracts.base import IntegrationEvent
from divert_contracts.topics import CASES, REFERRALS
from divert_platform.clock import utcnow
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import inbox, outbox
from divert_warrants.entrypoints.consumer import GROUP_ID, HANDLERS, TOPICS

FETCH_TIMEOUT = 30.0


async def produce(bootstrap: str, event: IntegrationEvent, ce_ids: list[str]) -> None:
    """Publish `event` once per CloudEvents id, exactly as assessment's relay encodes it."""
    producer = create_producer(bootstrap, "warrants-test")
    await producer.start()
    try:
        for ce_id in ce_ids:
            message = codec.encode(
                event_id=ce_id,
                source="/divert/assessment",
                event_type=event.event_type,
                subject=event.cloudevent_subject,
                time=utcnow(),
                key=event.partition_key,
                data=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(
                event.topic, value=message.value, key=str(message.key).encode(), headers=list(message.headers.items())
            )
    finally:
        await producer.stop()


async def fetch(bootstrap: str, key: str, count: int) -> list[ConsumerRecord]:
    """The first `count` records keyed `key` on the cases topic (fails after a bounded wait)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(CASES.name, p) for p in range(CASES.partitions)])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        async with asyncio.timeout(FETCH_TIMEOUT):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found += [r for records in batches.values() for r in records if r.key == key.encode()]
        return found
    finally:
        await consumer.stop()


async def test_an_on_time_assessment_record_rescinds_the_request(
    kafka_bootstrap, warrants, client, make_lapse, make_assessment_completed, rows, due
) -> None:
    assert {topic.name for topic in TOPICS} == {CASES.name, REFERRALS.name}
    await ensure_topics(kafka_bootstrap, [CASES])
    request = (await client.post("/v1/warrant-requests", json=make_lapse())).json()
    assessed = make_assessment_completed(request["referral_id"], due)
    redelivered_id = str(uuid4())
    await produce(kafka_bootstrap, assessed, [redelivered_id, redelivered_id])  # one record delivered twice
    records = await fetch(kafka_bootstrap, assessed.partition_key, 2)

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

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}")).json()
    assert (view["status"], view["rescission_reason"]) == ("rescinded", "assessed_before_deadline")
    assert [row["event_type"] for row in await rows(outbox, outbox.c.message_key == request["referral_id"])] == [
        "org.divert.warrant.requested.v1",
        "org.divert.warrant.request_rescinded.v1",
    ]
    assert [row["event_id"] for row in await rows(inbox, inbox.c.consumer == GROUP_ID)] == [redelivered_id]
