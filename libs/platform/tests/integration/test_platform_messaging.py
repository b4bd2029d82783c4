"""Outbox → relay → real broker → consumer runner: CloudEvents headers, trace context, inbox
de-duplication and dead-lettering, partitions side by side and effects outside transactions, on
SQLite and PostgreSQL."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import Location, ReferralAccepted, ReferralWithdrawn, RmsReference, Subject
from divert_contracts.topics import REFERRALS
from divert_contracts.warrants import WarrantRequested
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_platform.consumer import ConsumerRunner, Effect, RejectedMessage
from divert_platform.relay import OutboxRelay
from divert_platform.schema import idempotency_keys, inbox, outbox
from divert_platform.telemetry import configure_telemetry
from divert_platform.testing import metric_value, produce, records_keyed
from divert_platform.unit_of_work import SqlUnitOfWork

SOURCE = REFERRALS.source  # what the consumers' provenance check expects on divert.referrals


@pytest.fixture(scope="module")
def spans(tmp_path_factory: pytest.TempPathFactory) -> InMemorySpanExporter:
    provider = configure_telemetry(
        "platform-test", "test", otlp_endpoint=None, data_dir=tmp_path_factory.mktemp("traces")
    )
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def accepted(referral_id: UUID) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id=referral_id,
        jurisdiction="demo",
        pathway="arrest_diversion",
        referred_at=datetime(2026, 11, 30, tzinfo=UTC),
        policy="demo",
        policy_version="1",
        assessment_due_by=datetime(2026, 12, 30, tzinfo=UTC),
        lapse_action="warrant_request",
        rms=RmsReference(agency="PD", case_number="1", officer_id="2"),
        subject=Subject(given_name="Sam", family_name="Lee"),
        location=Location(),
        offense_category="trespass",
    )


async def write_to_outbox(sessions: async_sessionmaker[AsyncSession], event: ReferralAccepted) -> None:
    async with SqlUnitOfWork(sessions, SOURCE) as uow:
        await uow.outbox.add(event)
        await uow.commit()


async def test_relay_publishes_cloudevents_continuing_the_writers_trace(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    spans: InMemorySpanExporter,
) -> None:
    referral_id = uuid4()
    with trace.get_tracer("test").start_as_current_span("POST /v1/referrals") as request_span:
        await write_to_outbox(sessions, accepted(referral_id))
    trace_id = format(request_span.get_span_context().trace_id, "032x")

    assert await OutboxRelay(sessions, producer).publish_pending() == 1
    assert await OutboxRelay(sessions, producer).publish_pending() == 0  # nothing left to publish

    [record] = await records_keyed(kafka_bootstrap, REFERRALS.name, str(referral_id), 1)
    headers = {name: value.decode() for name, value in record.headers}
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "org.divert.referral.accepted.v1"
    assert headers["ce_source"] == SOURCE
    assert headers["ce_subject"] == f"referrals/{referral_id}"
    assert headers["content-type"] == "application/json"
    assert UUID(headers["ce_id"])
    assert headers["traceparent"].split("-")[1] == trace_id
    # The record carries the request's own context; the relay's one span for the batch links it.
    assert headers["traceparent"].split("-")[2] == format(request_span.get_span_context().span_id, "016x")
    [send] = [span for span in spans.get_finished_spans() if span.kind is SpanKind.PRODUCER]
    assert send.name == f"{REFERRALS.name} send" and send.attributes is not None
    assert send.attributes["messaging.batch.message_count"] == 1
    request = request_span.get_span_context()
    assert [(link.context.trace_id, link.context.span_id) for link in send.links] == [
        (request.trace_id, request.span_id)
    ]


async def test_consumer_applies_once_dead_letters_poison_and_keeps_going(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    spans: InMemorySpanExporter,
) -> None:
    referral_id, poison_key = uuid4(), str(uuid4()).encode()
    await producer.send_and_wait(REFERRALS.name, b"\x00 not a cloudevent", key=poison_key)
    await producer.send_and_wait(
        REFERRALS.name,
        b'{"referral_id": "not-a-uuid"}',
        key=poison_key,
        headers=[
            ("ce_specversion", b"1.0"),
            ("ce_id", b"x-1"),
            ("ce_source", b"/evil"),
            ("ce_type", b"org.divert.referral.accepted.v1"),
            ("content-type", b"application/json"),
        ],
    )
    await write_to_outbox(sessions, accepted(referral_id))
    await OutboxRelay(sessions, producer).publish_pending()

    applied: list[Cause] = []

    async def handler(event: ReferralAccepted, uow: SqlUnitOfWork) -> None:
        if event.referral_id == referral_id:
            applied.append(uow.cause)

    group = f"test-{uuid4()}"

    def consume_until(condition: Callable[[], bool]) -> Awaitable[None]:
        runner = ConsumerRunner(
            group_id=group,
            bootstrap=kafka_bootstrap,
            topics=[REFERRALS],
            handlers={ReferralAccepted: handler},
            unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
            dead_letters=producer,
        )
        return run_until(runner, condition)

    # The poison may sit on another partition than the event: wait until both records are handled too.
    await consume_until(lambda: len(applied) == 1 and len(processed(spans, poison_key.decode())) >= 2)

    dead = await records_keyed(kafka_bootstrap, REFERRALS.dead_letter.name, poison_key.decode(), 2)
    errors = [dict(r.headers)["divert_dlq_error"].decode() for r in dead]
    assert "not a CloudEvent" in errors[0] or "not a CloudEvent" in errors[1]
    assert any("violates its schema" in e for e in errors)
    assert all(dict(r.headers)["divert_dlq_topic"] == REFERRALS.name.encode() for r in dead)

    # The relay re-sends the same row (a crash before it marked it published): applied once only.
    async with sessions() as session, session.begin():
        await session.execute(update(outbox).values(published_at=None))
    await OutboxRelay(sessions, producer).publish_pending()
    await records_keyed(kafka_bootstrap, REFERRALS.name, str(referral_id), 2)

    async def inbox_rows() -> int:
        async with sessions() as session:
            return await session.scalar(select(func.count()).select_from(inbox).where(inbox.c.consumer == group)) or 0

    rows_before = await inbox_rows()
    await consume_until(lambda: len(processed(spans, referral_id)) >= 2)
    assert len(applied) == 1
    assert await inbox_rows() == rows_before

    process_spans = [s for s in spans.get_finished_spans() if s.name == f"process {REFERRALS.name}"]
    assert any(s.attributes.get("cloudevents.event_type") == "org.divert.referral.accepted.v1" for s in process_spans)


async def run_until(runner: ConsumerRunner, condition: Callable[[], bool], within: float = 60) -> None:
    """Run `runner` until `condition` holds (failing after `within` seconds), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        async with asyncio.timeout(within):
            while not condition():
                await asyncio.sleep(0.1)
                if task.done():
                    task.result()
    finally:
        stop.set()
        await task


def processed(spans: InMemorySpanExporter, referral_id: UUID | str) -> list[Any]:
    """The finished `process` spans of records keyed by `referral_id`."""
    return [
        s
        for s in spans.get_finished_spans()
        if s.name == f"process {REFERRALS.name}"
        and (s.attributes or {}).get("messaging.kafka.message.key") == str(referral_id)
    ]


async def test_a_handler_that_can_never_succeed_is_dead_lettered_after_its_attempts(
    sessions: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    referral_id = uuid4()
    await write_to_outbox(sessions, accepted(referral_id))
    await OutboxRelay(sessions, producer).publish_pending()
    [record] = await records_keyed(kafka_bootstrap, REFERRALS.name, str(referral_id), 1)
    calls = 0

    async def broken(event: ReferralAccepted, uow: SqlUnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a defect that quotes Sam Lee")

    runner = ConsumerRunner(
        group_id=f"test-{uuid4()}",
        bootstrap=kafka_bootstrap,
        topics=[REFERRALS],
        handlers={ReferralAccepted: broken},
        unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
        dead_letters=producer,
        max_attempts=3,
        max_backoff=0.05,
    )
    await runner.handle(record)
    assert calls == 3
    [dead] = await records_keyed(kafka_bootstrap, REFERRALS.dead_letter.name, str(referral_id), 1)
    reason = dict(dead.headers)["divert_dlq_error"].decode()
    assert reason == "handler failed 3 times: ValueError"  # the type only: messages may hold personal data
    async with sessions() as session:  # the failed attempts left nothing behind
        assert (
            await session.scalar(
                select(func.count())
                .select_from(inbox)
                .where(inbox.c.event_id == dict(record.headers)["ce_id"].decode())
            )
            == 0
        )


async def send(bootstrap: str, referral_id: UUID, event_id: str, partition: int) -> None:
    """Publish `referral.accepted` for `referral_id` with CloudEvents id `event_id` to `partition`."""
    await produce(bootstrap, accepted(referral_id), source=SOURCE, event_ids=[event_id], partition=partition)


def effect_runner(
    sessions: async_sessionmaker[AsyncSession], bootstrap: str, producer: AIOKafkaProducer, effect: Effect, group: str
) -> ConsumerRunner:
    """A runner of `divert.referrals` whose only work is `effect` on each `referral.accepted`."""
    return ConsumerRunner(
        group_id=group,
        bootstrap=bootstrap,
        topics=[REFERRALS],
        handlers={},
        effects={ReferralAccepted: effect},
        unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
        dead_letters=producer,
        max_backoff=0.1,
    )


async def test_partitions_run_side_by_side_and_each_keeps_its_order(
    sessions: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    """Referral a's first effect waits for referral b's to begin, and b's for a's: handled one
    partition after the other, either would wait in vain. Within a partition, order holds."""
    a, b = uuid4(), uuid4()
    a_ids = [str(uuid4()) for _ in range(5)]  # CloudEvents ids: at most 36 characters in the inbox
    for event_id in a_ids:
        await send(kafka_bootstrap, a, event_id, partition=0)
    await send(kafka_bootstrap, b, str(uuid4()), partition=1)

    started = {a: asyncio.Event(), b: asyncio.Event()}
    seen: list[str] = []
    waited_in_vain: list[UUID] = []

    async def effect(event: ReferralAccepted, cause: Cause) -> None:
        referral_id = event.referral_id
        if referral_id not in started:
            return  # another test's record
        seen.append(str(cause.causation_id))
        started[referral_id].set()
        other = started[b if referral_id == a else a]
        try:
            async with asyncio.timeout(10):
                await other.wait()
        except TimeoutError:
            waited_in_vain.append(referral_id)

    runner = effect_runner(sessions, kafka_bootstrap, producer, effect, group=f"test-{uuid4()}")
    await run_until(runner, lambda: len(seen) >= 6)
    assert waited_in_vain == []
    assert [event_id for event_id in seen if event_id in a_ids] == a_ids


async def test_an_effect_runs_outside_any_transaction_and_is_applied_once_per_event(
    sessions: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    referral_id, event_id, next_id = uuid4(), str(uuid4()), str(uuid4())
    await send(kafka_bootstrap, referral_id, event_id, partition=2)
    await send(kafka_bootstrap, referral_id, event_id, partition=2)  # a redelivery: same CloudEvents id
    await send(kafka_bootstrap, referral_id, next_id, partition=2)  # then another event
    calls: list[str] = []
    writes_waited: list[float] = []

    async def effect(event: ReferralAccepted, cause: Cause) -> None:
        if event.referral_id != referral_id:
            return
        calls.append(str(cause.causation_id))
        # Another writer gets in at once: the runner holds no transaction (on SQLite, no write lock).
        started = asyncio.get_running_loop().time()
        async with SqlUnitOfWork(sessions, SOURCE) as uow:
            await uow.session.execute(
                insert(idempotency_keys).values(
                    scope="test",
                    key=str(uuid4()),
                    request_hash="-",
                    status_code=200,
                    response="{}",
                    created_at=utcnow(),
                )
            )
            await uow.commit()
        writes_waited.append(asyncio.get_running_loop().time() - started)

    group = f"test-{uuid4()}"
    await run_until(effect_runner(sessions, kafka_bootstrap, producer, effect, group), lambda: len(calls) >= 3)

    assert calls == [event_id, event_id, next_id]  # the effect is idempotent: it runs for the redelivery too
    assert max(writes_waited) < 5  # SQLite's busy timeout is 30 s: a held lock would show here
    async with sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(inbox).where(inbox.c.consumer == group, inbox.c.event_id.in_(calls))
        )
    assert rows == 2  # but the redelivery is a duplicate: one inbox row per event


async def test_records_that_contradict_the_declared_data_plane_are_dead_lettered_and_never_applied(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    metric_reader: InMemoryMetricReader,
) -> None:
    """Forged records: another service's source on divert.referrals, a type divert.referrals never
    carries (a `warrant.requested` planted under intake's source), and a real event's copy under a
    new source. Only the real event is applied; each forgery goes to the dead-letter topic with
    its reason, counted."""
    genuine, wrong_source, wrong_type = uuid4(), uuid4(), uuid4()
    event_id = str(uuid4())
    await produce(kafka_bootstrap, accepted(genuine), source=SOURCE, event_ids=[event_id])
    await produce(kafka_bootstrap, accepted(genuine), source="/divert/assessment", event_ids=[event_id])  # copy
    wrong_source_id, wrong_type_id = str(uuid4()), str(uuid4())
    ids = [event_id, wrong_source_id, wrong_type_id]
    await produce(kafka_bootstrap, accepted(wrong_source), source="/divert/warrants", event_ids=[wrong_source_id])
    planted = WarrantRequested(
        referral_id=wrong_type,
        warrant_request_id=uuid4(),
        jurisdiction="demo",
        kind="warrant_request",
        assessment_due_by=datetime(2026, 12, 1, tzinfo=UTC),
        requested_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    await produce(kafka_bootstrap, planted, source=SOURCE, event_ids=[wrong_type_id], topic=REFERRALS.name)
    group = f"test-{uuid4()}"
    applied: list[UUID] = []

    async def apply(event: ReferralAccepted | WarrantRequested, uow: SqlUnitOfWork) -> None:
        if event.referral_id in (genuine, wrong_source, wrong_type):
            applied.append(event.referral_id)

    runner = ConsumerRunner(
        group_id=group,
        bootstrap=kafka_bootstrap,
        topics=[REFERRALS],
        handlers={ReferralAccepted: apply, WarrantRequested: apply},
        unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
        dead_letters=producer,
        max_backoff=0.1,
    )

    def refused() -> float:
        return metric_value(metric_reader, "divert.consumer.refused", topic=REFERRALS.name, consumer=group)

    await run_until(runner, lambda: refused() >= 3 and len(applied) >= 1)
    assert applied == [genuine]
    reasons = {}
    for referral_id in (genuine, wrong_source, wrong_type):
        for record in await records_keyed(kafka_bootstrap, REFERRALS.dead_letter.name, str(referral_id), 1):
            reasons[referral_id] = dict(record.headers)["divert_dlq_error"].decode()
    assert reasons == {
        genuine: "provenance: source '/divert/assessment' is not divert.referrals's producer (/divert/intake)",
        wrong_source: "provenance: source '/divert/warrants' is not divert.referrals's producer (/divert/intake)",
        wrong_type: "provenance: type 'org.divert.warrant.requested.v1' is not carried on divert.referrals",
    }
    assert refused() == 3
    async with sessions() as session:  # the group read other tests' records too: count only these
        applied_ids = set(
            await session.scalars(select(inbox.c.event_id).where(inbox.c.consumer == group, inbox.c.event_id.in_(ids)))
        )
    assert applied_ids == {event_id}


def telling(
    sessions: async_sessionmaker[AsyncSession], referral_id: UUID, committed: list[str]
) -> Callable[[], SqlUnitOfWork]:
    """Units of work whose tracked events are the integration events themselves: a handler tracks a
    withdrawal of `referral_id` and committing writes it to the outbox (its reason, to `committed`)."""

    def to_integration_event(event: object, aggregate: object) -> ReferralWithdrawn | None:
        return event if isinstance(event, ReferralWithdrawn) and event.referral_id == referral_id else None

    def on_commit(published: Sequence[IntegrationEvent]) -> None:
        committed.extend(event.reason for event in published if isinstance(event, ReferralWithdrawn))

    return lambda: SqlUnitOfWork(sessions, SOURCE, on_commit=on_commit, to_integration_event=to_integration_event)


def withdrawal(referral_id: UUID, reason: str) -> ReferralWithdrawn:
    return ReferralWithdrawn(referral_id=referral_id, jurisdiction="demo", withdrawn_at=utcnow(), reason=reason)


async def outbox_reasons(sessions: async_sessionmaker[AsyncSession], referral_id: UUID) -> dict[str, str | None]:
    """The withdrawals told for `referral_id`: each one's reason and the traceparent of its row."""
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.data, outbox.c.traceparent).where(
                outbox.c.message_key == str(referral_id), outbox.c.event_type == ReferralWithdrawn.event_type
            )
        )
    told: dict[str, str | None] = {}
    for data, traceparent in rows:
        assert data["reason"] not in told, f"told twice: {data['reason']}"
        told[data["reason"]] = traceparent
    return told


async def test_a_partitions_records_share_one_transaction_each_with_its_own_cause_and_trace(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    spans: InMemorySpanExporter,
) -> None:
    referral_id = uuid4()
    ids = [str(uuid4()) for _ in range(6)]
    # One partition of its own: six events, then a redelivery of the first.
    await produce(kafka_bootstrap, accepted(referral_id), source=SOURCE, event_ids=[*ids, ids[0]], partition=4)
    committed: list[str] = []
    units: list[int] = []
    causes: list[str] = []

    async def handler(event: ReferralAccepted, uow: SqlUnitOfWork) -> None:
        if event.referral_id == referral_id:
            units.append(id(uow))
            causes.append(str(uow.cause.causation_id))
            uow.track(cast(Any, None), [cast(Any, withdrawal(referral_id, str(uow.cause.causation_id)))])

    group = f"test-{uuid4()}"
    runner = ConsumerRunner(
        group_id=group,
        bootstrap=kafka_bootstrap,
        topics=[REFERRALS],
        handlers={ReferralAccepted: handler},
        unit_of_work=telling(sessions, referral_id, committed),
        dead_letters=producer,
    )
    await run_until(runner, lambda: len(committed) >= len(ids) and len(processed(spans, referral_id)) >= 7)

    assert causes == ids  # in order, each record with its own cause; the redelivery skipped
    assert len(set(units)) == 1  # one unit of work, so one transaction, for the partition's run
    told = await outbox_reasons(sessions, referral_id)
    assert set(told) == set(ids)
    # Each record's outbox row continues that record's trace, not the run's last one.
    trace_of: dict[str, str] = {}
    for span in sorted(processed(spans, referral_id), key=lambda s: s.attributes["messaging.kafka.offset"]):
        # the first delivery's: the redelivery, skipped, has a trace of its own
        trace_of.setdefault(str(span.attributes["cloudevents.event_id"]), format(span.context.trace_id, "032x"))
    assert len(set(trace_of.values())) == len(ids)
    for event_id, traceparent in told.items():
        assert traceparent is not None and traceparent.split("-")[1] == trace_of[event_id]
    async with sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(inbox).where(inbox.c.consumer == group, inbox.c.event_id.in_(ids))
        )
    assert rows == len(ids)


async def test_a_failure_inside_a_run_rolls_it_back_and_its_records_are_handled_one_at_a_time(
    sessions: async_sessionmaker[AsyncSession],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    spans: InMemorySpanExporter,
) -> None:
    """The third record can never apply and the fourth fails once for a transient reason: the
    others are applied once each, the third is dead-lettered alone, and nothing is told twice."""
    referral_id = uuid4()
    ids = [str(uuid4()) for _ in range(5)]
    await produce(kafka_bootstrap, accepted(referral_id), source=SOURCE, event_ids=ids, partition=5)
    committed: list[str] = []
    failed_once: set[str] = set()

    async def handler(event: ReferralAccepted, uow: SqlUnitOfWork) -> None:
        if event.referral_id != referral_id:
            return
        event_id = str(uow.cause.causation_id)
        if event_id == ids[2]:
            raise RejectedMessage("this referral can never be accepted")
        if event_id == ids[3] and event_id not in failed_once:
            failed_once.add(event_id)
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        uow.track(cast(Any, None), [cast(Any, withdrawal(referral_id, event_id))])

    group = f"test-{uuid4()}"
    runner = ConsumerRunner(
        group_id=group,
        bootstrap=kafka_bootstrap,
        topics=[REFERRALS],
        handlers={ReferralAccepted: handler},
        unit_of_work=telling(sessions, referral_id, committed),
        dead_letters=producer,
        max_backoff=0.05,
    )
    await run_until(runner, lambda: len(committed) >= 4)  # the dead letter came before the last two

    assert sorted(committed) == sorted([ids[0], ids[1], ids[3], ids[4]])
    told = await outbox_reasons(sessions, referral_id)
    assert set(told) == {ids[0], ids[1], ids[3], ids[4]}
    [dead] = await records_keyed(kafka_bootstrap, REFERRALS.dead_letter.name, str(referral_id), 1)
    assert dict(dead.headers)["ce_id"].decode() == ids[2]
    assert dict(dead.headers)["divert_dlq_error"].decode() == "rejected: this referral can never be accepted"
    async with sessions() as session:
        applied = set(
            await session.scalars(select(inbox.c.event_id).where(inbox.c.consumer == group, inbox.c.event_id.in_(ids)))
        )
    assert applied == {ids[0], ids[1], ids[3], ids[4]}


async def test_a_run_runs_its_leading_effects_before_its_transaction_and_keeps_the_partitions_order(
    sessions: async_sessionmaker[AsyncSession], producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    """Two acceptances (an effect each) then two withdrawals (a handler each) on one partition: the
    effects run first, then the handlers, in the partition's order; an acceptance after a withdrawal
    starts a run of its own. (That effects run with no transaction open is the test above's.)"""
    referral_id = uuid4()
    accepted_ids, withdrawn_ids, last_id = (
        [str(uuid4()) for _ in range(2)],
        [str(uuid4()) for _ in range(2)],
        str(uuid4()),
    )
    await produce(kafka_bootstrap, accepted(referral_id), source=SOURCE, event_ids=accepted_ids, partition=3)
    await produce(kafka_bootstrap, withdrawal(referral_id, "ours"), source=SOURCE, event_ids=withdrawn_ids, partition=3)
    await produce(kafka_bootstrap, accepted(referral_id), source=SOURCE, event_ids=[last_id], partition=3)
    order: list[str] = []

    async def effect(event: ReferralAccepted, cause: Cause) -> None:
        if event.referral_id == referral_id:
            order.append(str(cause.causation_id))

    async def handler(event: ReferralWithdrawn, uow: SqlUnitOfWork) -> None:
        if event.referral_id == referral_id:
            order.append(str(uow.cause.causation_id))

    group = f"test-{uuid4()}"
    runner = ConsumerRunner(
        group_id=group,
        bootstrap=kafka_bootstrap,
        topics=[REFERRALS],
        handlers={ReferralWithdrawn: handler},
        effects={ReferralAccepted: effect},
        unit_of_work=lambda: SqlUnitOfWork(sessions, SOURCE),
        dead_letters=producer,
        max_backoff=0.1,
    )
    ours = {*accepted_ids, *withdrawn_ids, last_id}

    async def inbox_rows() -> int:
        async with sessions() as session:
            statement = (
                select(func.count()).select_from(inbox).where(inbox.c.consumer == group, inbox.c.event_id.in_(ours))
            )
            return await session.scalar(statement) or 0

    await run_until(runner, lambda: len(order) >= 5)
    assert order == [*accepted_ids, *withdrawn_ids, last_id]
    assert await inbox_rows() == 5
