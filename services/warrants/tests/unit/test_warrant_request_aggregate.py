"""The warrant-request aggregate: recording a request and rebuilding it from events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_warrants.domain import events
from divert_warrants.domain.commands import RequestWarrant
from divert_warrants.domain.warrant_request import InvalidWarrantRequest, WarrantRequest, WarrantRequestStatus
from divert_warrants.service_layer.integration import to_integration_event

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
NOW = DUE + timedelta(minutes=5)


def command(**changes: object) -> RequestWarrant:
    values: dict[str, object] = {
        "warrant_request_id": uuid4(),
        "referral_id": uuid4(),
        "jurisdiction": "king-county",
        "kind": "warrant_request",
        "assessment_due_by": DUE,
        "lapsed_at": DUE + timedelta(seconds=1),
        "at": NOW,
    }
    values.update(changes)
    return RequestWarrant(**values)


def test_a_lapse_records_one_warrant_requested_event() -> None:
    cmd = command()
    request = WarrantRequest.request(cmd)

    assert request.status is WarrantRequestStatus.REQUESTED
    assert request.referral_id == cmd.referral_id
    assert request.requested_at == NOW
    [event] = request.pending
    assert isinstance(event, events.WarrantRequested)
    assert (event.kind, event.lapsed_at, event.assessment_due_by) == ("warrant_request", cmd.lapsed_at, DUE)


def test_a_lapse_at_exactly_the_due_time_is_accepted() -> None:
    request = WarrantRequest.request(command(lapsed_at=DUE))
    assert request.status is WarrantRequestStatus.REQUESTED


def test_a_lapse_before_the_due_time_is_refused() -> None:
    with pytest.raises(InvalidWarrantRequest) as refused:
        WarrantRequest.request(command(lapsed_at=DUE - timedelta(microseconds=1)))
    assert refused.value.field == "lapsed_at"


def test_the_request_is_rebuilt_from_its_stored_events() -> None:
    cmd = command(kind="return_for_charging")
    recorded = WarrantRequest.request(cmd)
    stored = [events.WarrantRequested.model_validate(e.model_dump(mode="json")) for e in recorded.pending]

    rebuilt = WarrantRequest.from_events(cmd.warrant_request_id, stored)

    assert rebuilt.version == 1
    assert rebuilt.pending == []
    assert rebuilt.status is WarrantRequestStatus.REQUESTED
    assert (rebuilt.referral_id, rebuilt.kind, rebuilt.jurisdiction) == (
        cmd.referral_id,
        "return_for_charging",
        "king-county",
    )
    assert (rebuilt.assessment_due_by, rebuilt.lapsed_at, rebuilt.requested_at) == (DUE, cmd.lapsed_at, NOW)


def test_the_published_event_carries_no_case_content() -> None:
    cmd = command()
    request = WarrantRequest.request(cmd)
    [event] = request.pending

    published = to_integration_event(event, request)

    assert published is not None
    assert published.event_type == "org.divert.warrant.requested.v1"
    assert published.partition_key == str(cmd.referral_id)
    assert set(published.model_dump()) == {
        "referral_id",
        "warrant_request_id",
        "jurisdiction",
        "kind",
        "assessment_due_by",
        "lapsed_at",
        "requested_at",
    }


@pytest.mark.parametrize(
    ("act", "contract_type", "fields"),
    [
        (
            lambda r: r.rescind("referral_withdrawn", NOW),
            "org.divert.warrant.request_rescinded.v1",
            {"reason", "rescinded_at"},
        ),
        (
            lambda r: r.acknowledge("court", NOW),
            "org.divert.warrant.request_acknowledged.v1",
            {"acknowledged_by", "acknowledged_at"},
        ),
        (
            lambda r: (r.acknowledge("court", NOW), r.set_right("assessed_before_deadline", NOW)),
            "org.divert.warrant.request_flagged.v1",
            {"reason", "flagged_at"},
        ),
    ],
)
def test_lifecycle_events_map_to_their_contracts_without_case_content(act, contract_type, fields) -> None:
    request = WarrantRequest.request(command())
    request.pending = []

    act(request)

    published = to_integration_event(request.pending[-1], request)
    assert published is not None
    assert published.event_type == contract_type
    assert published.partition_key == str(request.referral_id)
    assert set(published.model_dump()) == {"referral_id", "warrant_request_id", "jurisdiction", *fields}
