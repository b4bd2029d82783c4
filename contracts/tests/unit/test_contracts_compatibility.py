"""Published revisions stay readable: current readers read every earlier event, and events with
fields a reader does not know still decode, while producers stay strict.

Each check runs per event type over `published/<ce type>/r<N>.{schema,example}.json`.
"""

import copy
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from pydantic import ValidationError

from divert_contracts import codec
from divert_contracts.base import ContractModel, IntegrationEvent
from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.evolution import breaking_changes
from divert_contracts.examples import EXAMPLES, example
from divert_contracts.referrals import ReferralAccepted, ReferralDeclined
from divert_contracts.registry import EVENT_TYPES
from divert_contracts.revisions import read
from divert_contracts.schemas import current_schemas

PUBLISHED, DAMAGED = read()
TYPES = sorted(EVENT_TYPES)
UNKNOWN = "added_by_a_newer_producer"


def _record(event_type: str, data: dict[str, Any]) -> codec.DecodedEvent:
    """Through the Kafka binding both ways: headers, key and value as a consumer receives them."""
    message = codec.encode(
        event_id="5a7c1e9d-0b3f-4d62-8e14-7f2a9c6b3d58",
        source="/divert/compatibility-test",
        event_type=event_type,
        subject=f"referrals/{data['referral_id']}",
        time=datetime(2026, 3, 2, 17, 15, tzinfo=UTC),
        key=data["referral_id"],
        data=data,
    )
    return codec.decode(message.headers.items(), str(message.key).encode(), message.value)


def _with_unknown_fields(value: Any) -> Any:
    """A copy of a payload with an unknown field added to every object in it, at every depth."""
    if isinstance(value, dict):
        return {**{key: _with_unknown_fields(item) for key, item in value.items()}, UNKNOWN: {"any": ["thing"]}}
    if isinstance(value, list):
        return [_with_unknown_fields(item) for item in value]
    return value


def _nested_objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_nested_objects(item) for item in value.values())
    if isinstance(value, list):
        return sum(_nested_objects(item) for item in value)
    return 0


def test_every_event_type_is_published_and_has_an_example() -> None:
    assert DAMAGED == {}
    assert sorted(PUBLISHED) == TYPES
    assert sorted(event.event_type for event in EXAMPLES) == TYPES
    for event in EXAMPLES:
        assert type(event) is EVENT_TYPES[event.event_type]


@pytest.mark.parametrize("event_type", TYPES)
def test_the_current_model_reads_every_published_example(event_type: str) -> None:
    for revision in PUBLISHED[event_type]:
        decoded = _record(event_type, revision.example)
        assert type(decoded.event) is EVENT_TYPES[event_type], f"r{revision.number}"
        assert decoded.type == event_type and decoded.subject == f"referrals/{revision.example['referral_id']}"


@pytest.mark.parametrize("event_type", TYPES)
def test_every_revision_is_additive_over_the_one_before_and_the_model_over_the_latest(event_type: str) -> None:
    history = PUBLISHED[event_type]
    for older, newer in pairwise(history):
        assert breaking_changes(older.schema, newer.schema) == [], f"r{older.number} → r{newer.number}"
    assert breaking_changes(history[-1].schema, current_schemas()[event_type]) == []
    assert history[-1].schema == current_schemas()[event_type], "run `make contracts` to record a revision"


@pytest.mark.parametrize("event_type", TYPES)
def test_the_checker_would_reject_a_removed_field_of_every_event(event_type: str) -> None:
    """The check above can fail: drop any one field of the latest revision and it is breaking."""
    latest = PUBLISHED[event_type][-1].schema
    for name in latest["properties"]:
        shrunk = copy.deepcopy(latest)
        del shrunk["properties"][name]
        shrunk["required"] = [field for field in shrunk.get("required", []) if field != name]
        assert breaking_changes(latest, shrunk) == [
            f"{name}: removed; readers that were not upgraded may still require it"
        ]


@pytest.mark.parametrize("event_type", TYPES)
def test_unknown_fields_at_every_depth_are_ignored_on_decode(event_type: str) -> None:
    payload = example(event_type).model_dump(mode="json")
    decoded = _record(event_type, _with_unknown_fields(payload))
    assert decoded.event == example(event_type)


def test_unknown_fields_reach_nested_models_in_objects_and_lists() -> None:
    """The tolerant read above covers nesting: some examples have models inside objects and tuples."""
    nested = {event.event_type: _nested_objects(event.model_dump(mode="json")) for event in EXAMPLES}
    assert nested["org.divert.referral.accepted.v1"] == 4  # the event, rms, subject, location
    assert nested["org.divert.case.assessment_completed.v1"] == 3  # the event and two needs in a list
    assert nested["org.divert.referral.declined.v1"] == 2  # the event and a reason in a list


@pytest.mark.parametrize("event_type", TYPES)
def test_producing_an_event_with_an_unknown_field_fails(event_type: str) -> None:
    model = EVENT_TYPES[event_type]
    fields = example(event_type).model_dump()
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model(**{**fields, UNKNOWN: 1})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(_with_unknown_fields(example(event_type).model_dump(mode="json")))


def test_nested_models_refuse_unknown_fields_when_built() -> None:
    accepted, declined = example("org.divert.referral.accepted.v1"), example("org.divert.referral.declined.v1")
    completed = example("org.divert.case.assessment_completed.v1")
    assert isinstance(accepted, ReferralAccepted) and isinstance(declined, ReferralDeclined)
    assert isinstance(completed, CaseAssessmentCompleted)
    nested: list[ContractModel] = [accepted.rms, accepted.subject, accepted.location, declined.reasons[0]]
    nested.append(completed.needs[0])
    assert {type(value) for value in nested} == set(ContractModel.__subclasses__()), "a nested model is untested"
    for value in nested:
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            type(value)(**value.model_dump(), **{UNKNOWN: 1})


def test_decoding_still_validates_the_fields_it_knows() -> None:
    """Tolerant of what it does not know, never of what it does: a bad known field is still refused."""
    payload = _with_unknown_fields(example("org.divert.referral.accepted.v1").model_dump(mode="json"))
    payload["subject"]["given_name"] = ""
    with pytest.raises(codec.UndecodableMessage, match=r"subject\.given_name"):
        _record("org.divert.referral.accepted.v1", payload)


def test_examples_are_fictional_and_all_events_concern_one_referral() -> None:
    accepted = example("org.divert.referral.accepted.v1")
    assert isinstance(accepted, IntegrationEvent)
    assert accepted.model_dump()["subject"]["family_name"] == "Example"
    assert "555 01" in accepted.model_dump()["subject"]["phone"]  # the range reserved for fiction
    assert len({event.referral_id for event in EXAMPLES}) == 1
