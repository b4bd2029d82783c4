"""The additive check: each rule rejects a breaking change and lets an additive one through.

Schemas come from small pydantic models, as the real ones do, so nested models arrive as `$defs`
reached through `$ref` and optional fields as `anyOf [X, null]`.
"""

from typing import Any, Literal, Optional
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field

from divert_contracts.evolution import breaking_changes, is_additive


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def changes(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return breaking_changes(schema(old), schema(new))


class Event(Strict):
    """Version as published."""

    jurisdiction: str = Field(max_length=64)
    kind: Literal["warrant_request", "return_for_charging"]
    note: str | None = None


def test_the_same_schema_is_additive() -> None:
    assert changes(Event, Event) == []


def test_an_annotation_change_is_additive() -> None:
    class Described(Strict):
        """Another description."""

        jurisdiction: str = Field(max_length=64, title="Where", description="Jurisdiction policy id.")
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = None

    assert changes(Event, Described) == []


def test_an_added_optional_property_is_additive_an_added_required_one_is_not() -> None:
    class WithOptional(Event):
        lapsed_at: str | None = None

    class WithRequired(Event):
        lapsed_at: str

    assert changes(Event, WithOptional) == []
    assert changes(Event, WithRequired) == ["lapsed_at: added as required; earlier events do not carry it"]


def test_a_removed_property_is_breaking() -> None:
    class WithoutNote(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"]

    assert changes(Event, WithoutNote) == ["note: removed; readers that were not upgraded may still require it"]


def test_a_property_that_becomes_required_or_stops_being_required_is_breaking() -> None:
    class NoteRequired(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None

    class KindDefaulted(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"] = "warrant_request"
        note: str | None = None

    assert any("note: became required" in reason for reason in changes(Event, NoteRequired))
    assert any("kind: no longer required" in reason for reason in changes(Event, KindDefaulted))


def test_a_new_enum_value_is_breaking_for_readers_that_were_not_upgraded() -> None:
    class MoreKinds(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging", "summons"]
        note: str | None = None

    class FewerKinds(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request"]
        note: str | None = None

    assert changes(Event, MoreKinds) == [
        "kind: new enum values ['summons']; readers that were not upgraded reject them"
    ]
    assert changes(Event, FewerKinds) != []  # one value left is a `const`, the enum is gone


def test_reordered_enum_values_are_the_same_enum() -> None:
    class Reordered(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["return_for_charging", "warrant_request"]
        note: str | None = None

    assert changes(Event, Reordered) == []


@pytest.mark.parametrize(("max_length", "word"), [(128, "relaxed"), (32, "tightened"), (None, "relaxed")])
def test_a_changed_bound_is_breaking_whichever_way_it_moves(max_length: int | None, word: str) -> None:
    # Relaxed: a longer value is one that readers that were not upgraded still reject (like a new
    # enum value). Tightened: events published earlier may no longer be valid.
    class Bound(Strict):
        jurisdiction: str = Field(max_length=max_length)
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = None

    [reason] = changes(Event, Bound)
    assert reason.startswith("jurisdiction: maxLength") and f"({word})" in reason


def test_a_changed_type_format_or_nullability_is_breaking() -> None:
    class Numbered(Strict):
        jurisdiction: int
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = None

    class Identified(Strict):
        jurisdiction: UUID
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = None

    class Nullable(Strict):
        jurisdiction: str | None = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = None

    class NotNullable(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"]
        note: str = ""

    assert any("jurisdiction: type 'string' → 'integer'" in reason for reason in changes(Event, Numbered))
    assert any("jurisdiction: format (none) → 'uuid'" in reason for reason in changes(Event, Identified))
    assert changes(Event, Nullable) == ["jurisdiction: now allows null; readers that were not upgraded reject it"]
    assert "note: no longer allows null; earlier events may carry it" in changes(Event, NotNullable)


def test_a_changed_default_is_breaking() -> None:
    class Defaulted(Strict):
        jurisdiction: str = Field(max_length=64)
        kind: Literal["warrant_request", "return_for_charging"]
        note: str | None = "none given"

    assert changes(Event, Defaulted) == [
        "note: default None → 'none given'; an event without the field would be read differently"
    ]


class Address(Strict):
    city: str = Field(max_length=100)


class Person(Strict):
    """Nested models are reached through `$ref` into `$defs`."""

    address: Address
    previous: tuple[Address, ...] = ()


def test_nested_models_follow_the_same_rules() -> None:
    class AddressWithZip(Strict):
        city: str = Field(max_length=100)
        zip: str | None = None

    class AddressWithoutCity(Strict):
        zip: str | None = None

    class PersonWithZip(Strict):
        address: AddressWithZip
        previous: tuple[AddressWithZip, ...] = ()

    class PersonWithoutCity(Strict):
        address: AddressWithoutCity
        previous: tuple[AddressWithoutCity, ...] = ()

    assert "$defs" in schema(Person) and changes(Person, PersonWithZip) == []
    assert changes(Person, PersonWithoutCity) == [
        "address.city: removed; readers that were not upgraded may still require it",
        "previous[].city: removed; readers that were not upgraded may still require it",
    ]


def test_a_nested_model_may_be_renamed_but_not_replaced_by_another_shape() -> None:
    class Place(Strict):
        city: str = Field(max_length=100)

    class Coordinates(Strict):
        latitude: float

    class Renamed(Strict):
        address: Place
        previous: tuple[Place, ...] = ()

    class Replaced(Strict):
        address: Coordinates
        previous: tuple[Address, ...] = ()

    assert changes(Person, Renamed) == []
    assert changes(Person, Replaced) == [
        "address.city: removed; readers that were not upgraded may still require it",
        "address.latitude: added as required; earlier events do not carry it",
    ]


def test_changed_items_are_breaking() -> None:
    class Tags(Strict):
        tags: tuple[str, ...] = ()

    class NumberTags(Strict):
        tags: tuple[int, ...] = ()

    assert changes(Tags, NumberTags) == ["tags[]: type 'string' → 'integer'; the values it accepts changed"]


def test_a_recursive_model_is_compared_without_looping() -> None:
    class Node(Strict):
        name: str
        children: tuple["Node", ...] = ()

    class NodeWithWeight(Strict):
        name: str
        weight: Optional[int] = None  # noqa: UP045 - the spelling does not matter to the schema
        children: tuple["NodeWithWeight", ...] = ()

    class NodeWithoutName(Strict):
        children: tuple["NodeWithoutName", ...] = ()

    assert is_additive(schema(Node), schema(NodeWithWeight))
    assert breaking_changes(schema(Node), schema(NodeWithoutName)) == [
        "name: removed; readers that were not upgraded may still require it"
    ]
