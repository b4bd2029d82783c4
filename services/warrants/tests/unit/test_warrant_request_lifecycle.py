"""The request lifecycle: requested → rescinded | acknowledged (→ flagged once), and the refusals."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_warrants.domain import events
from divert_warrants.domain.commands import RequestWarrant
from divert_warrants.domain.warrant_request import InvalidTransition, WarrantRequest, WarrantRequestStatus

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
NOW = DUE + timedelta(minutes=5)
LATER = NOW + timedelta(hours=1)


def fresh() -> WarrantRequest:
    """A new request, its WarrantRequested event pending."""
    return WarrantRequest.request(
        RequestWarrant(uuid4(), uuid4(), "king-county", "warrant_request", DUE, DUE + timedelta(seconds=1), NOW)
    )


def requested() -> WarrantRequest:
    """A stored request (its WarrantRequested event already saved)."""
    request = fresh()
    return WarrantRequest.from_events(request.id, request.pending)


def acknowledged(by: str = "prosecutor") -> WarrantRequest:
    request = requested()
    request.acknowledge(by, NOW)
    request.pending, request.version = [], request.version + 1
    return request


def rescinded() -> WarrantRequest:
    request = requested()
    request.rescind("referral_withdrawn", NOW)
    request.pending, request.version = [], request.version + 1
    return request


def test_a_requested_request_is_rescinded_with_its_reason() -> None:
    request = requested()

    request.rescind("assessed_before_deadline", LATER)

    assert request.status is WarrantRequestStatus.RESCINDED
    assert request.rescission_reason == "assessed_before_deadline"
    [event] = request.pending
    assert isinstance(event, events.RequestRescinded)
    assert (event.reason, event.rescinded_at, event.jurisdiction) == ("assessed_before_deadline", LATER, "king-county")
    assert event.referral_id == request.referral_id


@pytest.mark.parametrize("by", ["prosecutor", "court"])
def test_a_requested_request_is_acknowledged_by_prosecutor_or_court(by: str) -> None:
    request = requested()

    request.acknowledge(by, LATER)

    assert (request.status, request.acknowledged_by) == (WarrantRequestStatus.ACKNOWLEDGED, by)
    [event] = request.pending
    assert isinstance(event, events.RequestAcknowledged)
    assert (event.acknowledged_by, event.acknowledged_at) == (by, LATER)


def test_acknowledging_again_by_the_same_role_records_nothing() -> None:
    request = acknowledged("court")

    request.acknowledge("court", LATER)

    assert request.pending == []
    assert request.acknowledged_by == "court"


def test_acknowledging_by_the_other_role_is_invalid() -> None:
    request = acknowledged("prosecutor")

    with pytest.raises(InvalidTransition) as refused:
        request.acknowledge("court", LATER)

    assert refused.value.current_state is WarrantRequestStatus.ACKNOWLEDGED
    assert "prosecutor" in str(refused.value)
    assert request.pending == []


@pytest.mark.parametrize("by", ["prosecutor", "court"])
def test_a_rescinded_request_cannot_be_acknowledged(by: str) -> None:
    request = rescinded()

    with pytest.raises(InvalidTransition) as refused:
        request.acknowledge(by, LATER)

    assert refused.value.current_state is WarrantRequestStatus.RESCINDED


@pytest.mark.parametrize("request_in", [rescinded, acknowledged])
def test_only_a_requested_request_can_be_rescinded(request_in) -> None:
    request = request_in()

    with pytest.raises(InvalidTransition) as refused:
        request.rescind("referral_withdrawn", LATER)

    assert refused.value.current_state is request.status
    assert request.pending == []


def test_an_unrecorded_request_can_do_nothing() -> None:
    with pytest.raises(InvalidTransition) as refused:
        WarrantRequest(id=uuid4()).acknowledge("court", NOW)
    assert refused.value.current_state is None


def test_an_acknowledged_request_found_wrongful_is_flagged_not_changed() -> None:
    request = acknowledged()

    request.set_right("assessed_before_deadline", LATER)

    assert request.status is WarrantRequestStatus.ACKNOWLEDGED
    assert (request.flagged, request.flag_reason) == (True, "assessed_before_deadline")
    [event] = request.pending
    assert isinstance(event, events.WrongfulRequestFlagged)
    assert (event.reason, event.flagged_at) == ("assessed_before_deadline", LATER)


def test_a_request_is_flagged_at_most_once() -> None:
    request = acknowledged()
    request.set_right("referral_withdrawn", NOW)
    request.pending = []

    request.set_right("assessed_before_deadline", LATER)

    assert request.pending == []
    assert request.flag_reason == "referral_withdrawn"
    with pytest.raises(InvalidTransition):
        request.flag("assessed_before_deadline", LATER)


def test_only_an_acknowledged_request_can_be_flagged() -> None:
    for request in (requested(), rescinded()):
        with pytest.raises(InvalidTransition):
            request.flag("referral_withdrawn", LATER)


def test_setting_right_a_requested_request_rescinds_it() -> None:
    request = requested()

    request.set_right("referral_withdrawn", LATER)

    assert (request.status, request.rescission_reason) == (WarrantRequestStatus.RESCINDED, "referral_withdrawn")


def test_setting_right_a_rescinded_request_changes_nothing() -> None:
    request = rescinded()

    request.set_right("assessed_before_deadline", LATER)

    assert request.pending == []
    assert request.rescission_reason == "referral_withdrawn"  # the first reason stands


def test_the_whole_history_rebuilds_the_same_state() -> None:
    request = fresh()
    request.acknowledge("prosecutor", NOW)
    request.set_right("referral_withdrawn", LATER)
    stored = [WarrantRequest.event_types()[e.name].model_validate(e.model_dump(mode="json")) for e in request.pending]

    rebuilt = WarrantRequest.from_events(request.id, stored)

    assert rebuilt.version == 3
    assert (rebuilt.status, rebuilt.acknowledged_by, rebuilt.flagged, rebuilt.flag_reason) == (
        WarrantRequestStatus.ACKNOWLEDGED,
        "prosecutor",
        True,
        "referral_withdrawn",
    )
