"""The consumer runner: decode, check provenance, de-duplicate, apply, commit; records that cannot or
must not be applied go to `<topic>.dlq`.

For each record, in order within its partition: decode the CloudEvent (failing that, dead-letter it
and move on); check that its topic, `source` and `type` are what `divert_contracts.dataplane`
declares for the topic (failing that, dead-letter it with the reason: a record claiming another
producer, or a type its topic never carries, is never applied); insert the inbox row keyed by
`(topic, ce_id)` and apply the handler's effect in the same transaction; commit. Consecutive records
of a partition share one transaction (a run, up to `_RUN_RECORDS`): one inbox look-up, one inbox
insert, one outbox insert and one commit for the run instead of each per record. The records of a
run that have an effect (work outside the database) come first, and their effects run before the
transaction opens. Should anything in a run fail, it is rolled back and its records are handled
again one at a time, so a poison record is still retried and dead-lettered alone. The Kafka offset
is committed once the partition's batch is done. A redelivered record finds its inbox row and is
skipped, so at-least-once delivery never applies an effect twice. The partitions of one fetch are
handled side by side: every event of a referral has the referral id as its key, so shares a
partition and keeps its order.

When the group moves on without this member (a rebalance, or a broker restart that forgot the group
and its offsets), the runner drops what it fetched and resumes where the group's committed offsets
say, or from the earliest record when there are none: it re-reads, never skips.
"""

import asyncio
import logging
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, Literal, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from divert_contracts import codec, dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.topics import Topic
from divert_platform.cause import Cause, caused_by_event
from divert_platform.clock import utcnow
from divert_platform.kafka import METADATA_MAX_AGE_MS, ensure_topics
from divert_platform.schema import inbox
from divert_platform.unit_of_work import SqlUnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("divert.consumer")

Handler = Callable[[Any, Any], Awaitable[None]]
"""`handler(event, uow)`: applies one event type inside the runner's unit of work (which knows its
`cause`); the runner commits."""
Effect = Callable[[Any, Cause], Awaitable[None]]
"""`effect(event, cause)`: a reaction outside the service's database, idempotent by itself."""
Outcome = Literal["applied", "duplicate", "ignored", "dead_lettered"]
Provenance = Callable[[str, str, str], str | None]
"""`provenance(topic, source, type)`: why such a record must not be applied, or None."""

_meter = metrics.get_meter("divert.consumer")
_messages = _meter.create_counter(
    "divert.consumer.messages", description="Records handled, by topic, consumer group and outcome."
)
_dead_letters = _meter.create_counter(
    "divert.consumer.dead_letters", description="Records sent to `<topic>.dlq`, by source topic and consumer group."
)
_refused = _meter.create_counter(
    "divert.consumer.refused",
    description=(
        "Records whose topic, source or type contradict the declared data plane, dead-lettered unapplied, by topic "
        "and consumer group: someone is writing what they should not (docs/operations.md)."
    ),
)
_failures = _meter.create_counter(
    "divert.consumer.handler_failures",
    description="Failed attempts to apply a record (each is retried): a steady rate means a stuck partition.",
)
_running: "weakref.WeakSet[ConsumerRunner]" = weakref.WeakSet()


def _observe_lag(_: CallbackOptions) -> Iterable[Observation]:
    for runner in list(_running):
        yield from runner.lag()


_meter.create_observable_gauge(
    "divert.consumer.lag",
    callbacks=[_observe_lag],
    description="Records on the partition not yet handled by the consumer group (high watermark - next offset).",
)


async def _inbox_row_only(event: IntegrationEvent, uow: SqlUnitOfWork) -> None:
    """An effect's part of the transaction: nothing beyond the inbox row the runner writes."""


def _decode(record: ConsumerRecord) -> codec.DecodedEvent | codec.UndecodableMessage:
    """The record's event, or why it is none (the record is then dead-lettered)."""
    try:
        return codec.decode(list(record.headers or ()), record.key, record.value)
    except codec.UndecodableMessage as error:
        return error


def _describe(span: trace.Span, decoded: codec.DecodedEvent) -> None:
    span.set_attributes(
        {
            "cloudevents.event_id": decoded.id,
            "cloudevents.event_source": decoded.source,
            "cloudevents.event_type": decoded.type,
            "cloudevents.event_spec_version": "1.0",
        }
    )


class RejectedMessage(Exception):
    """Raised by a handler for a well-formed event that can never be applied; it is dead-lettered."""


_COMMIT_TIMEOUT = 15.0
"""Seconds an offset commit may take before the runner gives up on it and re-reads from the last commit."""

_MAX_RECORDS = 500
"""Records per fetch: at most this many are re-read (and skipped by the inbox) after a crash."""

_RUN_RECORDS = 50
"""Records of a partition applied in one transaction at most. The commit (an fsync on SQLite) and
the inbox statements are shared by the run; a longer run saves little more and holds SQLite's write
lock, which the service's API waits for, longer (docs/performance.md)."""


def _moved_on_or_transient(error: BaseException) -> bool:
    """True for commit failures after which re-reading from the last commit is the cure."""
    if isinstance(error, CommitFailedError | IllegalStateError | TimeoutError):
        return True  # the group rebalanced or forgot this member; or the broker is slow or away
    return isinstance(error, KafkaError) and error.retriable


def _reassigned_since(assignments: "_Assignments", generation: int) -> bool:
    return assignments.generation != generation


class _Assignments(ConsumerRebalanceListener):
    """Counts the group's reassignments of partitions to this member.

    A batch fetched under one assignment must never be committed under the next: after a broker
    restart the new topic has other records at those offsets, and committing an old offset there
    would make the group skip the new records below it.
    """

    def __init__(self) -> None:
        self.generation = 0

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.generation += 1

    async def on_partitions_assigned(self, assigned: object) -> None:
        self.generation += 1


def is_transient(error: BaseException) -> bool:
    """True for failures of infrastructure (database, network, Temporal) that waiting cures."""
    # Only a process that loaded Temporal's client can meet its errors; the services without a
    # workflow (all but intake) never import it, and save its ~18 MiB.
    rpc = sys.modules.get("temporalio.service")
    if rpc is not None and isinstance(error, rpc.RPCError):
        transient = {
            rpc.RPCStatusCode.UNAVAILABLE,
            rpc.RPCStatusCode.DEADLINE_EXCEEDED,
            rpc.RPCStatusCode.RESOURCE_EXHAUSTED,
        }
        return error.status in transient
    return isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError)


class ConsumerRunner:
    """Runs one consumer group over `topics`, dispatching each event by its type to its handler.

    Event types without a handler are acknowledged and ignored. A handler that fails for a
    transient reason (database busy, a dependency down) is retried with backoff, without moving
    past the record, for as long as it takes. Any other failure is a defect or a record that can
    never apply: after `max_attempts` the record is dead-lettered so the partition keeps moving.
    Only error types are logged, never messages, which may quote personal data.

    `effects` are handlers whose effect lies elsewhere and is idempotent by itself, such as
    starting a Temporal workflow by a fixed id. They run before the inbox transaction, with no
    transaction open: on SQLite a transaction holds the database's write lock, which every other
    writer of the service would wait for while the effect waits on the network. A redelivered
    record runs its effect again (harmlessly; checking the inbox first would cost every record a
    transaction more), then is skipped as a duplicate.
    """

    def __init__(
        self,
        *,
        group_id: str,
        bootstrap: str,
        topics: Sequence[Topic],
        handlers: Mapping[type[IntegrationEvent], Handler],
        unit_of_work: Callable[[], SqlUnitOfWork],
        dead_letters: AIOKafkaProducer,
        max_backoff: float = 30.0,
        max_attempts: int = 5,
        kafka_options: Mapping[str, Any] | None = None,
        replication_factor: int = 1,
        dead_letter_retention_ms: int | None = None,
        effects: Mapping[type[IntegrationEvent], Effect] | None = None,
        provenance: Provenance = dataplane.refusal,
    ) -> None:
        overlap = set(handlers) & set(effects or {})
        if overlap:
            raise ValueError(f"an event type has either a handler or an effect, not both: {overlap}")
        self._group_id = group_id
        self._bootstrap = bootstrap
        self._topics = topics
        self._handlers = handlers
        self._effects = dict(effects or {})
        self._provenance = provenance
        self._unit_of_work = unit_of_work
        self._dead_letters = dead_letters
        self._max_backoff = max_backoff
        self._max_attempts = max_attempts
        self._kafka_options = dict(kafka_options or {})
        self._replication_factor = replication_factor
        self._dead_letter_retention_ms = dead_letter_retention_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._next_offsets: dict[TopicPartition, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set."""
        options = {"metadata_max_age_ms": METADATA_MAX_AGE_MS, **self._kafka_options}
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **options,
        )
        assignments = _Assignments()
        consumer.subscribe(topics=[topic.name for topic in self._topics], listener=assignments)
        await consumer.start()
        self._consumer = consumer
        _running.add(self)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=_MAX_RECORDS)
                generation = assignments.generation
                await self._learn_positions(consumer, batches)
                if batches:
                    await self._consume(consumer, batches, stop, partial(_reassigned_since, assignments, generation))
        finally:
            _running.discard(self)
            self._consumer = None
            await consumer.stop()

    async def _consume(
        self,
        consumer: AIOKafkaConsumer,
        batches: Mapping[TopicPartition, list[ConsumerRecord]],
        stop: asyncio.Event,
        reassigned: Callable[[], bool],
    ) -> None:
        """Handle each fetched partition's records in order, the partitions side by side.

        When one partition cannot go on (a commit failed, the group reassigned partitions, or its
        handler raised), the others stop after their current record, and every partition is
        re-read from its last committed offset; the inbox skips what was applied already.
        """
        halted = asyncio.Event()
        # Per partition, the first offset not yet committed: where to rewind if a commit fails.
        uncommitted = {partition: records[0].offset for partition, records in batches.items()}

        def abandoned() -> bool:
            return halted.is_set() or reassigned()

        async def one_partition(partition: TopicPartition, records: list[ConsumerRecord]) -> bool:
            try:
                done = await self._consume_partition(consumer, partition, records, stop, abandoned)
            except BaseException:
                halted.set()
                raise
            if done:
                uncommitted[partition] = records[-1].offset + 1
            else:
                halted.set()
            return done

        outcomes = await asyncio.gather(
            *(one_partition(partition, records) for partition, records in batches.items()), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        if all(outcomes):
            return
        if reassigned():  # the group's offsets decide now; lag is re-learnt per batch
            self._next_offsets.clear()
        else:
            self._rewind(consumer, uncommitted)

    async def _consume_partition(
        self,
        consumer: AIOKafkaConsumer,
        partition: TopicPartition,
        records: list[ConsumerRecord],
        stop: asyncio.Event,
        abandoned: Callable[[], bool],
    ) -> bool:
        """Handle one partition's batch and commit its end; False if a commit failed or it had to
        stop early (the rest of the batch is then left unapplied)."""
        # Before applying anything, confirm with a commit of the batch's start that the group still
        # gives this member the partition at this offset. After a broker restart the fetch position
        # is stale: these records may come from the re-created topic, past records never applied,
        # and applying them first would reorder a referral's events. The commit then fails.
        if stop.is_set() or abandoned() or not await self._commit(consumer, partition, records[0].offset):
            return False
        self._next_offsets[partition] = records[0].offset
        position = 0
        while position < len(records):
            if stop.is_set() or abandoned():
                return False
            position += await self._handle_run(records[position : position + _RUN_RECORDS], stop, abandoned)
            self._next_offsets[partition] = records[position - 1].offset + 1
        # An offset of a batch fetched under the previous assignment must not be committed now.
        return not abandoned() and await self._commit(consumer, partition, records[-1].offset + 1)

    async def _commit(self, consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int) -> bool:
        """Commit `offset`; False when that failed, typically because the group moved on without
        this member (a rebalance, or a restarted broker that forgot the group)."""
        try:
            async with asyncio.timeout(_COMMIT_TIMEOUT):
                # aiokafka retries some errors forever, e.g. for a topic a restarted broker lacks
                await consumer.commit({partition: offset})
        except (KafkaError, TimeoutError) as error:
            if not _moved_on_or_transient(error):
                raise  # e.g. not authorised: re-reading cures nothing
            log.warning(
                "consumer group %s could not commit (%s); resuming from its committed offsets",
                self._group_id,
                type(error).__name__,
            )
            return False
        return True

    @staticmethod
    def _rewind(consumer: AIOKafkaConsumer, uncommitted: dict[TopicPartition, int]) -> None:
        """Seek back to the first uncommitted record of each partition fetched, so that nothing is
        skipped should the member still hold its partitions. After a re-join the group's committed
        offsets (or the earliest, when there are none) decide instead."""
        for partition, offset in uncommitted.items():
            try:
                consumer.seek(partition, offset)
            except IllegalStateError:
                pass  # no longer assigned to this member

    async def _learn_positions(self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Any]) -> None:
        """Note where each assigned partition stands when nothing was fetched for it, so an idle
        member (just started, or re-joined) reports its lag too, not nothing."""
        for partition in consumer.assignment() - set(batches) - set(self._next_offsets):
            try:
                async with asyncio.timeout(0.2):  # a position not known yet must not hold up the batch
                    self._next_offsets[partition] = await consumer.position(partition)
            except (IllegalStateError, TimeoutError, KafkaError):
                pass  # not assigned any more, or its offset not known yet: next time

    def lag(self) -> list[Observation]:
        """Per assigned partition, how many records wait behind the one being handled.

        Read when metrics are scraped (from another thread): the high watermark comes from the
        client's background fetches, so a consumer stuck on one record still shows its lag grow.
        """
        consumer = self._consumer
        if consumer is None:
            return []
        observations = []
        for partition in list(consumer.assignment()):
            highwater, next_offset = consumer.highwater(partition), self._next_offsets.get(partition)
            if highwater is not None and next_offset is not None:
                labels = {"topic": partition.topic, "partition": str(partition.partition), "consumer": self._group_id}
                observations.append(Observation(max(highwater - next_offset, 0), labels))
        return observations

    async def _handle_run(
        self, records: Sequence[ConsumerRecord], stop: asyncio.Event, abandoned: Callable[[], bool]
    ) -> int:
        """Handle a run of leading records in one transaction, or the first record alone when it
        cannot join one (a dead letter); returns how many records were handled.

        A run is records whose provenance holds: first any that have an effect, whose effects run
        before the transaction opens (an effect must never hold it), then any that need a handler
        or nothing. So every record's work still happens in the partition's order. A run that fails
        is rolled back and its records handled one at a time.
        """
        run: list[tuple[ConsumerRecord, codec.DecodedEvent]] = []
        for record in records:
            decoded = _decode(record)
            if not self._joins(run, record, decoded):
                if not run:
                    await self._handle(record, stop, decoded)
                    return 1
                break
            run.append((record, cast(codec.DecodedEvent, decoded)))
        writes = set(self._handlers) | set(self._effects)
        if not any(type(decoded.event) in writes for _, decoded in run):
            for record, decoded in run:  # nothing to write: no transaction
                with self._process_span(record) as span:
                    _describe(span, decoded)
                self._count(record, "ignored")
            return len(run)
        try:
            outcomes = await self._apply_run(run, stop, abandoned)
        except Exception as error:
            log.warning("a run of %d records failed (%s); handling them one at a time", len(run), type(error).__name__)
            for record, decoded in run:
                await self._handle(record, stop, decoded)
            return len(run)
        for (record, _), outcome in zip(run, outcomes, strict=False):
            self._count(record, outcome)
        return len(outcomes)

    def _joins(
        self,
        run: Sequence[tuple[ConsumerRecord, codec.DecodedEvent]],
        record: ConsumerRecord,
        decoded: codec.DecodedEvent | codec.UndecodableMessage,
    ) -> bool:
        """Whether the record can join `run`: it decodes, its provenance holds, and it has no effect
        or follows only records with effects (their effects run before the run's transaction)."""
        if isinstance(decoded, codec.UndecodableMessage):
            return False
        if self._provenance(record.topic, decoded.source, decoded.type) is not None:
            return False
        return type(decoded.event) not in self._effects or all(type(d.event) in self._effects for _, d in run)

    async def _apply_run(
        self,
        run: Sequence[tuple[ConsumerRecord, codec.DecodedEvent]],
        stop: asyncio.Event,
        abandoned: Callable[[], bool],
    ) -> list[Outcome]:
        """Run the leading records' effects, then apply `run` in one transaction; returns each
        handled record's outcome, in order (fewer than `run` when stopped early: those handled are
        committed, the rest left for a re-read)."""
        effected = 0
        for record, decoded in run:
            effect = self._effects.get(type(decoded.event))
            if effect is None:
                break
            with self._process_span(record) as span:
                _describe(span, decoded)
                await effect(decoded.event, caused_by_event(decoded.source, decoded.id, decoded.time))
            effected += 1
        topic = run[0][0].topic
        outcomes: list[Outcome] = []
        rows: list[dict[str, Any]] = []
        async with self._unit_of_work() as uow:
            seen = await self._seen_among(uow, topic, [decoded.id for _, decoded in run])
            for index, (record, decoded) in enumerate(run):
                if index >= effected and outcomes and (stop.is_set() or abandoned()):
                    break
                if index < effected:  # its span was its effect's
                    if decoded.id in seen:
                        outcomes.append("duplicate")  # a redelivery: its effect ran again, harmlessly
                        continue
                    seen.add(decoded.id)
                    rows.append(self._inbox_row(record, decoded))
                    outcomes.append("applied")
                    continue
                with self._process_span(record) as span:
                    _describe(span, decoded)
                    handler = self._handlers.get(type(decoded.event))
                    if handler is None:
                        outcomes.append("ignored")
                        continue
                    if decoded.id in seen:
                        outcomes.append("duplicate")
                        continue
                    seen.add(decoded.id)
                    uow.cause = caused_by_event(decoded.source, decoded.id, decoded.time)
                    await handler(decoded.event, uow)
                    await uow.stage()  # its outbox rows carry this record's trace context and cause
                    rows.append(self._inbox_row(record, decoded))
                    outcomes.append("applied")
            if rows:
                # A row another member wrote meanwhile fails the run; one at a time, it is a duplicate.
                await uow.session.execute(insert(inbox), rows)
            await uow.commit()
        return outcomes

    async def _seen_among(self, uow: SqlUnitOfWork, topic: str, event_ids: Sequence[str]) -> set[str]:
        """Which of `event_ids` this consumer group applied already (their inbox rows exist)."""
        result = await uow.session.scalars(
            select(inbox.c.event_id).where(
                inbox.c.consumer == self._group_id,
                inbox.c.topic == topic,
                inbox.c.event_id.in_(set(event_ids)),
            )
        )
        return set(result)

    def _inbox_row(self, record: ConsumerRecord, decoded: codec.DecodedEvent) -> dict[str, Any]:
        return {
            "source": decoded.source,
            "event_id": decoded.id,
            "consumer": self._group_id,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "processed_at": utcnow(),
        }

    def _process_span(self, record: ConsumerRecord) -> AbstractContextManager[trace.Span]:
        """The record's `process` span, continuing the trace its headers carry."""
        carrier = {name: raw.decode("utf-8", "replace") for name, raw in record.headers or ()}
        return tracer.start_as_current_span(
            f"process {record.topic}",
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.kafka.message.key": (record.key or b"").decode("utf-8", "replace"),
                "messaging.consumer.group.name": self._group_id,
            },
        )

    async def handle(self, record: ConsumerRecord, stop: asyncio.Event | None = None) -> None:
        """Process one record completely (applied, skipped as duplicate, ignored or dead-lettered)."""
        await self._handle(record, stop, _decode(record))

    async def _handle(
        self,
        record: ConsumerRecord,
        stop: asyncio.Event | None,
        decoded: codec.DecodedEvent | codec.UndecodableMessage,
    ) -> None:
        """`handle`, given the record decoded already (or why it cannot be)."""
        with self._process_span(record) as span:
            if isinstance(decoded, codec.UndecodableMessage):
                await self._dead_letter(record, str(decoded), stop)
                span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                return
            _describe(span, decoded)
            if (refusal := self._provenance(record.topic, decoded.source, decoded.type)) is not None:
                _refused.add(1, {"topic": record.topic, "consumer": self._group_id})
                await self._dead_letter(record, f"provenance: {refusal}", stop)
                span.set_status(Status(StatusCode.ERROR, "refused"))
                return
            if type(decoded.event) not in self._handlers and type(decoded.event) not in self._effects:
                self._count(record, "ignored")
                return
            backoff, attempt = 0.2, 0
            while True:
                try:
                    self._count(record, await self._apply(record, decoded))
                    return
                except RejectedMessage as error:
                    await self._dead_letter(record, f"rejected: {error}", stop)
                    span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                    return
                except Exception as error:
                    attempt += 1
                    failure = type(error).__name__
                    _failures.add(1, {"topic": record.topic, "consumer": self._group_id, "error": failure})
                    span.add_event("handler failed", {"exception.type": failure, "attempt": attempt})
                    if not is_transient(error) and attempt >= self._max_attempts:
                        await self._dead_letter(record, f"handler failed {attempt} times: {failure}", stop)
                        span.set_status(Status(StatusCode.ERROR, "dead-lettered"))
                        return
                    log.warning(
                        "handling %s failed (%s, attempt %d); retrying in %.1fs",
                        decoded.type,
                        failure,
                        attempt,
                        backoff,
                    )
                    if stop is not None and stop.is_set():
                        raise
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)

    def _count(self, record: ConsumerRecord, outcome: Outcome) -> None:
        _messages.add(1, {"topic": record.topic, "consumer": self._group_id, "outcome": outcome})

    async def _apply(self, record: ConsumerRecord, decoded: codec.DecodedEvent) -> Outcome:
        cause = caused_by_event(decoded.source, decoded.id, decoded.time)
        effect = self._effects.get(type(decoded.event))
        if effect is not None:
            await effect(decoded.event, cause)  # outside any transaction: see the class's docstring
        handler = self._handlers.get(type(decoded.event), _inbox_row_only)
        unit = self._unit_of_work()
        unit.cause = cause
        async with unit as uow:
            if await self._seen_among(uow, record.topic, [decoded.id]):
                return "duplicate"
            try:
                await uow.session.execute(insert(inbox), self._inbox_row(record, decoded))
            except IntegrityError:
                return "duplicate"  # another member of the group applied it a moment ago
            await handler(decoded.event, uow)
            await uow.commit()
            return "applied"

    async def _dead_letter(self, record: ConsumerRecord, reason: str, stop: asyncio.Event | None = None) -> None:
        dead_letter_topic = f"{record.topic}.dlq"
        log.warning("dead-lettering %s[%d]@%d", record.topic, record.partition, record.offset)
        headers = [
            *(record.headers or ()),
            ("divert_dlq_error", reason.encode("utf-8")[:4000]),
            ("divert_dlq_topic", record.topic.encode()),
            ("divert_dlq_partition", str(record.partition).encode()),
            ("divert_dlq_offset", str(record.offset).encode()),
            ("divert_dlq_consumer", self._group_id.encode()),
        ]
        backoff = 0.2
        while True:
            try:
                await self._dead_letters.send_and_wait(
                    dead_letter_topic, value=record.value, key=record.key, headers=headers
                )
                break
            except (KafkaError, OSError) as error:
                # The broker may be down or have lost the topic (the embedded one forgets all on a
                # restart). Nothing is lost while waiting: the record's offset is committed only
                # once it is set aside.
                failure = type(error).__name__
                log.warning("could not dead-letter to %s (%s); retrying in %.1fs", dead_letter_topic, failure, backoff)
                if stop is not None and stop.is_set():
                    raise
                await self._recreate_topic(record.topic)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
        _dead_letters.add(1, {"topic": record.topic, "consumer": self._group_id})
        self._count(record, "dead_lettered")

    async def _recreate_topic(self, name: str) -> None:
        """Create the consumed topic `name` and its dead-letter topic if missing; failing is fine (retried)."""
        topics = [topic for topic in self._topics if topic.name == name]
        try:
            await ensure_topics(
                self._bootstrap,
                topics,
                replication_factor=self._replication_factor,
                dead_letter_retention_ms=self._dead_letter_retention_ms,
                **self._kafka_options,
            )
        except Exception as error:  # the broker is still away: the caller backs off and tries again
            log.warning("could not re-create topic %s (%s)", name, type(error).__name__)
