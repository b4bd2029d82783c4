"""The aggregate base: appliers found by their annotation, state rebuilt from events, pending
events handed over once; the in-memory repository and unit of work keep the real contract."""

from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import ReferralWithdrawn
from divert_platform.aggregate import Aggregate, DomainEvent, UnknownEvent, applies
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.fakes import FakeUnitOfWork, InMemoryRepository


class CounterEvent(DomainEvent):
    counter_id: UUID


class Opened(CounterEvent):
    start: int


class Incremented(CounterEvent):
    by: int


class Closed(CounterEvent):
    pass


class Renamed(CounterEvent):
    name = "OldName"


@dataclass
class Counter(Aggregate[CounterEvent]):
    stream_prefix = "counter"

    value: int = 0
    open: bool = False

    @classmethod
    def start(cls, counter_id: UUID, start: int) -> "Counter":
        counter = cls(id=counter_id)
        counter._record(Opened(counter_id=counter_id, start=start))
        return counter

    def increment(self, by: int) -> None:
        self._record(Incremented(counter_id=self.id, by=by))

    def close(self) -> None:
        self._record(Closed(counter_id=self.id))

    @applies
    def _opened(self, event: Opened) -> None:
        self.value, self.open = event.start, True

    @applies
    def _incremented(self, event: Incremented) -> None:
        self.value += event.by

    @applies
    def _closed(self, event: Closed) -> None:
        self.open = False


@dataclass
class LoudCounter(Counter):
    """A subclass keeps its base's appliers and may add its own."""

    renamed: bool = False

    @applies
    def _renamed(self, event: Renamed) -> None:
        self.renamed = True


def test_an_event_type_is_stored_under_its_class_name_unless_it_keeps_an_old_one() -> None:
    assert (Opened.name, Incremented.name, Renamed.name) == ("Opened", "Incremented", "OldName")


def test_recorded_events_change_the_state_and_wait_to_be_stored() -> None:
    counter = Counter.start(uuid4(), 5)
    counter.increment(2)
    assert (counter.value, counter.open, counter.version) == (7, True, 0)
    assert [type(event) for event in counter.pending] == [Opened, Incremented]
    assert [type(event) for event in counter.take_pending()] == [Opened, Incremented]
    assert counter.take_pending() == []


def test_the_state_is_rebuilt_from_the_events_by_the_same_appliers() -> None:
    counter_id = uuid4()
    history = [
        Opened(counter_id=counter_id, start=1),
        Incremented(counter_id=counter_id, by=4),
        Closed(counter_id=counter_id),
    ]
    rebuilt = Counter.from_events(counter_id, history)
    assert (rebuilt.value, rebuilt.open, rebuilt.version, rebuilt.pending) == (5, False, 3, [])


def test_an_event_without_an_applier_is_refused() -> None:
    counter = Counter.start(uuid4(), 0)
    with pytest.raises(UnknownEvent):
        counter.apply(Renamed(counter_id=counter.id))


def test_subclasses_inherit_appliers_and_name_their_event_types() -> None:
    loud = LoudCounter.start(uuid4(), 1)
    loud.apply(Renamed(counter_id=loud.id))
    assert loud.renamed and loud.value == 1
    assert set(LoudCounter.event_types()) == {"Opened", "Incremented", "Closed", "OldName"}
    assert "OldName" not in Counter.event_types()
    assert Counter.stream_id(loud.id) == f"counter-{loud.id}"


def test_an_applier_must_name_one_event_type() -> None:
    with pytest.raises(TypeError, match="annotate `event`"):

        @dataclass
        class Broken(Aggregate[CounterEvent]):
            @applies
            def _anything(self, event: object) -> None:
                pass


def _published(event: DomainEvent, counter: Counter) -> IntegrationEvent | None:
    if isinstance(event, Closed):
        return ReferralWithdrawn(referral_id=counter.id, jurisdiction="demo", withdrawn_at=utcnow(), reason="closed")
    return None


async def test_the_fake_unit_of_work_publishes_mapped_events_on_commit_only() -> None:
    uow = FakeUnitOfWork(_published)
    uow.cause = Cause(actor="tester", role="officer", agency="SPD")
    counters = InMemoryRepository(Counter, uow)
    async with uow:
        counter = Counter.start(uuid4(), 0)
        counter.close()
        await counters.save(counter)
        assert uow.published == []
        await uow.commit()
    assert [type(event) for event in uow.published] == [ReferralWithdrawn]
    assert uow.metadata == [{"actor": "tester", "role": "officer", "agency": "SPD"}] * 2
    assert (uow.commits, counter.version) == (1, 2)
    stored = await counters.get(counter.id)
    assert stored is not None and (stored.open, stored.version) == (False, 2)


async def test_the_in_memory_repository_refuses_a_stale_version() -> None:
    uow = FakeUnitOfWork()
    counters = InMemoryRepository(Counter, uow)
    counter = counters.add(Counter.start(uuid4(), 0))
    first, second = await counters.get(counter.id), await counters.get(counter.id)
    assert first is not None and second is not None
    first.increment(1)
    second.increment(2)
    await counters.save(first)
    with pytest.raises(ConcurrencyConflict):
        await counters.save(second)
