"""Event-sourced aggregates: state that changes only by recording domain events.

An aggregate's methods check a command against its state and, if it holds, record an event:
`_record` applies the event to the state and keeps it pending until a repository stores it. The
same appliers rebuild the state from the stored stream (`from_events`), so what a command decided
and what a reload finds can never differ. Appliers are methods marked `@applies`, one per event
type, found by the type annotation of their `event` parameter:

    @dataclass
    class Referral(Aggregate[events.DomainEvent]):
        status: ReferralStatus | None = None

        @applies
        def _accepted(self, event: events.ReferralAccepted) -> None:
            self.status = ReferralStatus.ACCEPTED

This module imports nothing from the database or the network: domain code builds on it.
"""

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """Something that happened to one aggregate, as its service stores it (never published as is).

    `name` is the stored event type: the class name, unless the class sets it (a renamed class
    must keep reading the events stored under its old name).
    """

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__


E = TypeVar("E", bound=DomainEvent)
Applier = Callable[[Any, Any], None]


_marked_appliers: set[Callable[..., None]] = set()


def applies(method: Callable[[Any, E], None]) -> Callable[[Any, E], None]:
    """Mark `method` as the applier of the event type its `event` parameter is annotated with."""
    _marked_appliers.add(method)
    return method


class UnknownEvent(LookupError):
    """An aggregate was given an event type it has no applier for (a bug, or a stream of another kind)."""


@dataclass
class Aggregate(Generic[E]):
    """An aggregate's id, its stored version and its new, not yet stored events (`pending`).

    Subclasses are dataclasses whose fields all have defaults; `stream_prefix` names their streams.
    """

    stream_prefix: ClassVar[str]
    _appliers: ClassVar[dict[type[DomainEvent], Applier]] = {}
    _event_types: ClassVar[dict[str, type[DomainEvent]]] = {}

    id: UUID
    version: int = 0
    pending: list[E] = field(default_factory=list, repr=False, compare=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers = dict(cls._appliers)  # a subclass inherits its bases' appliers
        for member in vars(cls).values():
            if callable(member) and member in _marked_appliers:
                event_type = inspect.get_annotations(member, eval_str=True).get("event")
                if not (isinstance(event_type, type) and issubclass(event_type, DomainEvent)):
                    raise TypeError(f"{cls.__name__}.{member.__name__}: annotate `event` with one DomainEvent type")
                appliers[event_type] = member
        cls._appliers = appliers
        # Named once here: a repository decodes every stored event by it.
        cls._event_types = {event_type.name: event_type for event_type in appliers}

    @classmethod
    def stream_id(cls, aggregate_id: UUID) -> str:
        """The event stream of one aggregate of this kind."""
        return f"{cls.stream_prefix}-{aggregate_id}"

    @classmethod
    def event_types(cls) -> Mapping[str, type[DomainEvent]]:
        """Every event type this aggregate applies, by stored name."""
        return cls._event_types

    @classmethod
    def from_events(cls, aggregate_id: UUID, history: Iterable[E]) -> Self:
        """Rebuild the aggregate from its stored events, oldest first."""
        aggregate = cls(id=aggregate_id)
        for event in history:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate

    def apply(self, event: E) -> None:
        """Change the state as `event` says (its type picks the applier)."""
        applier = self._appliers.get(type(event))
        if applier is None:
            raise UnknownEvent(f"{type(self).__name__} has no applier for {type(event).__name__}")
        applier(self, event)

    def _record(self, event: E) -> None:
        """Apply a new event and keep it until the repository stores it."""
        self.apply(event)
        self.pending.append(event)

    def take_pending(self) -> list[E]:
        """The new events, oldest first, handed over once (the repository stores them)."""
        pending, self.pending = self.pending, []
        return pending
