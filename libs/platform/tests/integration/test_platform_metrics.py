"""Metrics that count what really happened: committed effects once, relay backlog, consumer
outcomes, dead letters and lag, against a real database and broker."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts import codec, dataplane
from divert_contracts.referrals import ReasonCode, ReferralDeclined
from divert_contracts.topics import REFERRALS, Topic
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import ensure_topics
from divert_platform.metrics import CommittedEventCounter
from divert_platform.relay import OutboxRelay
from divert_platform.schema import outbox
from divert_platform.testing import metric_value
from divert_platform.unit_of_work import SqlUnitOfWork

SOURCE = REFERRALS.source  # what the consumers' provenance check expects on divert.referrals


def declined(jurisdiction: str = "demo") -> ReferralDeclined:
    return ReferralDeclined(
        referral_id=uuid4(),
        jurisdiction=jurisdiction,
        pathway="social_contact",
        referred_at=datetime(2026, 11, 30, tzinfo=UTC),
        policy="demo",
        policy_version="1",
        reasons=(ReasonCode(code="excluded_offense", message="not eligible"),),
        agency="DEMO-PD",
    )


async def test_committed_events_are_counted_once_and_rolled_back_ones_never(
    sessions: async_sessionmaker[AsyncSession], metric_reader: InMemoryMetricReader
) -> None:
    jurisdiction = f"j-{uuid4().hex[:8]}"  # a label of this test's own: the provider is shared
    counter = CommittedEventCounter().count(
        ReferralDeclined, "test.referrals", "test", labels=("jurisdiction", "pathway"), decision="declined"
    )

    async with SqlUnitOfWork(sessions, SOURCE, on_commit=counter) as uow:
        await uow.outbox.add(declined(jurisdiction))
        await uow.outbox.add(declined(jurisdiction))
        await uow.commit()
    async with SqlUnitOfWork(sessions, SOURCE, on_commit=counter) as uow:
        await uow.outbox.add(declined(jurisdiction))  # never committed: rolled back on exit

    labels = {"jurisdiction": jurisdiction, "pathway": "social_contact", "decision": "declined"}
    assert metric_value(metric_reader, "test.referrals", **labels) == 2


async def test_the_relay_reports_its_backlog_and_the_age_of_the_oldest_row(
    sessions: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer, metric_reader: InMemoryMetricReader
) -> None:
    relay = OutboxRelay(sessions, producer)
    async with SqlUnitOfWork(sessions, SOURCE) as uow:
        for _ in range(3):
            await uow.outbox.add(declined())
        await uow.commit()
    async with sessions() as session, session.begin():  # the first row has waited a minute
        await session.execute(
            update(outbox).where(outbox.c.id == 1).values(created_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    count, age = await relay.measure_backlog()
    assert count == 3 and 60 <= age < 90
    assert metric_value(metric_reader, "divert.outbox.backlog") == 3

    published_before = metric_value(metric_reader, "divert.outbox.published", topic=REFERRALS.name)
    assert await relay.publish_pending() == 3
    assert await relay.measure_backlog() == (0, 0.0)
    assert metric_value(metric_reader, "divert.outbox.backlog") == 0
    assert metric_value(metric_reader, "divert.outbox.oldest_unpublished_age") == 0
    assert metric_value(metric_reader, "divert.outbox.published", topic=REFERRALS.name) == published_before + 3


async def test_the_consumer_counts_outcomes_dead_letters_and_its_lag(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    metric_reader: InMemoryMetricReader,
) -> None:
    topic = Topic(f"test.metrics-{uuid4().hex[:8]}", 1)  # a topic of its own: counts start at zero
    await ensure_topics(kafka_bootstrap, [topic, topic.dead_letter])
    event = declined()
    message = codec.encode(
        event_id=str(uuid4()),
        source=SOURCE,
        event_type=event.event_type,
        subject=event.cloudevent_subject,
        time=datetime.now(UTC),
        key=event.partition_key,
        data=event.model_dump(mode="json"),
    )
    headers = list(message.headers.items())
    await producer.send_and_wait(topic.name, value=message.value, key=str(message.key).encode(), headers=headers)
    await producer.send_and_wait(topic.name, value=message.value, key=str(message.key).encode(), headers=headers)
    await producer.send_and_wait(topic.name, value=b"not a cloudevent", key=b"poison")

    started, release = asyncio.Event(), asyncio.Event()

    async def slow_handler(event: ReferralDeclined, uow: SqlUnitOfWork) -> None:
        started.set()
        await release.wait()  # hold the consumer on its first record while we look at the lag

    runner = ConsumerRunner(
        group_id=f"test-{uuid4()}",
        bootstrap=kafka_bootstrap,
        topics=[topic],
        handlers={ReferralDeclined: slow_handler},
        unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
        dead_letters=producer,
        # the topic is the test's own, so undeclared: hold it to divert.referrals' declaration instead
        provenance=lambda _topic, source, event_type: dataplane.refusal(REFERRALS.name, source, event_type),
    )

    def value(name: str, **labels: str) -> float:
        return metric_value(metric_reader, name, topic=topic.name, **labels)

    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        async with asyncio.timeout(45):
            await started.wait()
            while value("divert.consumer.lag") != 3:  # noqa: ASYNC110 - the held record and two behind it
                await asyncio.sleep(0.1)
            release.set()
            while value("divert.consumer.lag") != 0 or value("divert.consumer.dead_letters") < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task

    assert value("divert.consumer.messages", outcome="applied") == 1
    assert value("divert.consumer.messages", outcome="duplicate") == 1  # the redelivered copy
    assert value("divert.consumer.messages", outcome="dead_lettered") == 1
    assert value("divert.consumer.dead_letters") == 1
    assert value("divert.consumer.lag") == 0
