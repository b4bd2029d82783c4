"""The prosecutor's disposition of a request: recorded once, and never `filed` where nothing may be
filed (a rescinded request, or an acknowledged one flagged as wrongful). Also the notice."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_contracts.warrants import Disposition
from divert_warrants.domain import events
from divert_warrants.domain.commands import RequestWarrant
from divert_warrants.domain.notice import notice
from divert_warrants.domain.warrant_request import (
    FilingRefused,
    InvalidTransition,
    WarrantRequest,
    WarrantRequestStatus,
    may_file,
)

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
NOW = DUE + timedelta(minutes=5)
LATER = NOW + timedelta(days=2)


def requested() -> WarrantRequest:
    """A new request; its pending events are its whole history (reload with `from_events`)."""
    return WarrantRequest.request(
        RequestWarrant(uuid4(), uuid4(), "king-county", "warrant_request", DUE, DUE + timedelta(seconds=1), NOW)
    )


def rescinded() -> WarrantRequest:
    request = requested()
    request.rescind("referral_withdrawn", NOW)
    return request


def flagged() -> WarrantRequest:
    request = requested()
    request.acknowledge("prosecutor", NOW)
    request.flag("assessed_before_deadline", NOW)
    return request


@pytest.mark.parametrize("disposition", ["filed", "declined_to_file", "returned_to_program"])
@pytest.mark.parametrize("acknowledge_first", [False, True])
def test_a_standing_request_records_any_disposition(disposition: Disposition, acknowledge_first: bool) -> None:
    request = requested()
    if acknowledge_first:
        request.acknowledge("prosecutor", NOW)

    request.dispose(disposition, LATER)

    assert request.disposition == disposition
    assert (request.status, request.acknowledged_by) == (
        WarrantRequestStatus.ACKNOWLEDGED,
        "prosecutor",
    )  # acted on, so a later wrongful finding flags it
    event = request.pending[-1]
    assert isinstance(event, events.RequestDisposed)
    assert (event.disposition, event.disposed_at, event.jurisdiction) == (disposition, LATER, "king-county")
    assert event.referral_id == request.referral_id


@pytest.mark.parametrize("settled", [rescinded, flagged], ids=["rescinded", "flagged"])
def test_nothing_may_be_filed_on_a_rescinded_or_flagged_request(settled) -> None:
    request = settled()
    recorded = len(request.pending)

    with pytest.raises(FilingRefused) as refused:
        request.dispose("filed", LATER)

    assert "nothing may be filed" in str(refused.value)
    assert request.disposition is None and len(request.pending) == recorded
    assert not may_file(request.status, request.flagged)


@pytest.mark.parametrize("settled", [rescinded, flagged], ids=["rescinded", "flagged"])
@pytest.mark.parametrize("disposition", ["declined_to_file", "returned_to_program"])
def test_declining_or_returning_to_the_program_is_allowed_whatever_the_request_became(
    settled, disposition: Disposition
) -> None:
    request = settled()

    request.dispose(disposition, LATER)

    assert request.disposition == disposition


def test_the_same_disposition_again_is_a_retry_and_another_one_is_refused() -> None:
    request = requested()
    request.dispose("declined_to_file", LATER)
    request = WarrantRequest.from_events(request.id, request.pending)

    request.dispose("declined_to_file", LATER + timedelta(hours=1))
    assert request.pending == []
    with pytest.raises(InvalidTransition) as refused:
        request.dispose("filed", LATER)
    assert "already declined_to_file" in str(refused.value) and request.pending == []


def test_a_disposition_survives_a_reload() -> None:
    request = requested()
    request.dispose("returned_to_program", LATER)

    assert WarrantRequest.from_events(request.id, request.pending).disposition == "returned_to_program"


def test_a_request_nobody_recorded_takes_no_disposition() -> None:
    with pytest.raises(InvalidTransition):
        WarrantRequest(id=uuid4()).dispose("filed", LATER)


def test_may_file_only_while_the_request_stands() -> None:
    assert may_file(WarrantRequestStatus.REQUESTED, flagged=False)
    assert may_file("acknowledged", flagged=False)
    assert not may_file("acknowledged", flagged=True)
    assert not may_file(WarrantRequestStatus.RESCINDED, flagged=False)


@pytest.mark.parametrize(
    ("kind", "status", "rescission", "flag", "disposition", "says"),
    [
        ("warrant_request", "requested", None, None, None, "the prosecutor may request a warrant"),
        ("return_for_charging", "acknowledged", None, None, None, "returns to the prosecutor for a charging decision"),
        ("warrant_request", "rescinded", "referral_withdrawn", None, None, "Nothing may be filed on this request"),
        ("warrant_request", "rescinded", "assessed_before_deadline", None, None, "assessed on time"),
        ("warrant_request", "acknowledged", None, "assessed_before_deadline", None, "Nothing may be filed"),
        ("warrant_request", "requested", None, None, "declined_to_file", "recorded: declined to file"),
    ],
)
def test_the_notice_says_what_the_request_asks_or_why_nothing_may_be_filed(
    kind, status, rescission, flag, disposition, says: str
) -> None:
    assert says in notice(kind, status, rescission, flag, disposition)
