"""The referral consumer against a real broker: records produced to `divert.referrals` are
applied through the platform's ConsumerRunner, inbox and all."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from divert_assessment.adapters.case_queries import find_case
from divert_assessment.adapters.tables import cases
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints.consumer import GROUP_ID
from divert_contracts import codec
from divert_contracts.cases import CaseOpened
from divert_contracts.milestones import CaseOpenedMilestone
from divert_contracts.referrals import ReferralAccepted
from divert_contracts.topics import CASE_MILESTONES, CASES, REFERRALS
from divert_platform.clock import utcnow
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import events, inbox, outbox

FETCH_TIMEOUT = 30.0


async def produce(bootstrap: str, event: ReferralAccepted, ce_ids: list[str]) -> None:
    """Publish `event` once per CloudEvents id, exactly as intake's relay encodes it."""
    producer = create_producer(bootstrap, "assessment-test")
    await producer.start()
    try:
        for ce_id in ce_ids:
            message = codec.encode(
                event_id=ce_id,
                source="/divert/intake",
                event_type=event.event_type,
                subject=event.cloudevent_subject,
                time=utcnow(),
                key=event.partition_key,
                data=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(
                REFERRALS.name,
                value=message.value,
                key=str(message.key).encode(),
                headers=list(message.headers.items()),
            )
    finally:
        await producer.stop()


async def fetch(bootstrap: str, key: str, count: int) -> list[ConsumerRecord]:
    """The first `count` records keyed `key` on the referrals topic (fails after a bounded wait)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(REFERRALS.name, p) for p in range(REFERRALS.partitions)])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        async with asyncio.timeout(FETCH_TIMEOUT):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found += [r for records in batches.values() for r in records if r.key == key.encode()]
        return found
    finally:
        await consumer.stop()


async def test_an_accepted_referral_opens_exactly_one_case_however_often_it_arrives(
    kafka_bootstrap, assessment, make_referral_accepted, rows, open_case_handler
) -> None:
    await ensure_topics(kafka_bootstrap, [REFERRALS])
    accepted = make_referral_accepted(referral_id=uuid4())
    redelivered_id = str(uuid4())
    # the same record twice (a redelivery), then the same event re-published under a new id
    await produce(kafka_bootstrap, accepted, [redelivered_id, redelivered_id, str(uuid4())])
    records = await fetch(kafka_bootstrap, accepted.partition_key, 3)

    dead_letters = create_producer(kafka_bootstrap, "assessment-test-dlq")
    await dead_letters.start()
    try:
        runner = ConsumerRunner(
            group_id=GROUP_ID,
            bootstrap=kafka_bootstrap,
            topics=[REFERRALS],
            handlers={ReferralAccepted: open_case_handler},
            unit_of_work=assessment.unit_of_work,
            dead_letters=dead_letters,
        )
        stop = asyncio.Event()
        stop.set()  # a handler failure then raises here instead of being retried forever
        for record in records:
            await runner.handle(record, stop)
    finally:
        await dead_letters.stop()

    key = str(accepted.referral_id)
    stored = await rows(events, events.c.stream_id == Case.stream_id(accepted.referral_id))
    assert [e["event_type"] for e in stored] == ["CaseOpened"]
    opened = await rows(outbox, outbox.c.message_key == key)
    assert [row["event_type"] for row in opened] == [CaseOpened.event_type, CaseOpenedMilestone.event_type]
    assert [row["topic"] for row in opened] == [CASES.name, CASE_MILESTONES.name]
    assert opened[0]["data"]["assessment_due_by"] is not None
    assert len(await rows(cases, cases.c.referral_id == key)) == 1
    assert len(await rows(inbox, inbox.c.consumer == GROUP_ID)) == 2  # two distinct CloudEvents ids
    async with assessment.sessions() as session:
        case = await find_case(session, accepted.referral_id, agency="reach-king-county")
    assert case is not None
    assert case["status"] == "pending_assessment" and case["rms_agency"] == "SPD"
    assert case["assessment_due_by"] == accepted.assessment_due_by


async def test_the_opening_records_who_caused_it(make_referral_accepted, deliver, rows) -> None:
    accepted = make_referral_accepted()

    message = await deliver(accepted)

    [recorded] = await rows(events, events.c.stream_id == Case.stream_id(accepted.referral_id))
    assert recorded["metadata"] == {"actor": "/divert/intake", "role": "service", "causation_id": message.id}
