"""What each change of a referral tells its agency's callback endpoints: status only, in order."""

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from divert_intake.domain import events
from divert_intake.domain.referral import Referral, ReferralStatus
from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, PROSECUTION_TYPES, status_change

from .test_intake_referral import DEMO, NOW, command, lapse


def referral_through_its_life() -> tuple[Referral, list[events.ReferralEvent]]:
    """A demo arrest diversion accepted, lapsed, warrant requested, then found assessed in time
    (the news came late), rescinded, enrolled, closed; every event it recorded, in order."""
    assert DEMO is not None
    referral = Referral.submit(command(), DEMO)
    lapse(referral)
    warrant = uuid4()
    referral.note_warrant_request(warrant)
    due = referral.assessment_due_by
    assert due is not None
    referral.record_assessment(due - timedelta(hours=1))
    referral.note_warrant_rescission(warrant)
    referral.note_enrollment(due + timedelta(days=2))
    referral.note_closure(due + timedelta(days=90))
    return referral, list(referral.take_pending())


def view(status: str) -> dict[str, str]:
    return {"jurisdiction": "demo", "agency": "PD", "case_number": "1", "pathway": "arrest_diversion", "status": status}


def test_every_status_change_becomes_one_callback_of_its_type_numbered_in_order() -> None:
    _, recorded = referral_through_its_life()

    changes = [status_change(event, version, view("accepted")) for version, event in enumerate(recorded, start=1)]
    sent = [change for change in changes if change is not None]

    assert [change.event_type for change in sent] == [
        "referral.accepted",
        "referral.lapsed",
        "referral.warrant_requested",
        "referral.assessed",
        "referral.warrant_rescinded",
        "referral.enrolled",
        "referral.closed",
    ]
    assert all(change.event_type in CALLBACK_TYPES for change in sent)
    assert [change.sequence for change in sent] == sorted(change.sequence for change in sent)
    assert len({change.event_id for change in sent}) == len(sent)  # one message per change and endpoint
    assessed = next(change for change in sent if change.event_type == "referral.assessed")
    assert assessed.data["on_time"] is True
    lapsed = next(change for change in sent if change.event_type == "referral.lapsed")
    assert lapsed.data["lapse_action"] == "warrant_request"


def test_the_same_change_has_the_same_event_id_however_often_it_is_mapped() -> None:
    _, recorded = referral_through_its_life()

    first = status_change(recorded[0], 1, view("accepted"))
    again = status_change(recorded[0], 1, view("accepted"))

    assert first is not None and again is not None
    assert first.event_id == again.event_id
    assert first.event_id != (status_change(recorded[0], 2, view("accepted")) or first).event_id


def test_callbacks_carry_status_and_the_police_references_never_the_person_or_the_screening() -> None:
    _, recorded = referral_through_its_life()

    payloads = [
        json.dumps(change.payload())
        for version, event in enumerate(recorded, start=1)
        if (change := status_change(event, version, view("accepted"))) is not None
    ]

    for payload in payloads:
        for personal in ("Sam", "Lee", "given_name", "date_of_birth", "screening", "drug_quantity", "officer_id"):
            assert personal not in payload
        assert '"rms": {"agency": "PD", "case_number": "1"}' in payload


def test_a_declined_referral_says_its_reason_codes_only() -> None:
    assert DEMO is not None
    referral = Referral.submit(command(amenable=False), DEMO)
    assert referral.status == ReferralStatus.DECLINED
    (event,) = referral.take_pending()

    change = status_change(event, 1, view("declined"))

    assert change is not None and change.event_type == "referral.declined"
    assert change.data["reasons"] and all(isinstance(code, str) for code in change.data["reasons"])
    assert "message" not in json.dumps(change.payload())


def test_reminders_and_extensions_are_not_callbacks() -> None:
    referral_id = uuid4()
    reminder = events.AssessmentDueSoon(
        referral_id=referral_id,
        jurisdiction="demo",
        assessment_due_by=NOW,
        reminded_at=NOW,
        days_before=1,
        next_reminder_at=None,
    )

    assert status_change(reminder, 3, view("accepted")) is None


@pytest.mark.parametrize("kind", PROSECUTION_TYPES)
def test_a_prosecutors_office_may_subscribe_only_to_its_approvals_and_what_decides_a_warrant(kind: str) -> None:
    assert kind in CALLBACK_TYPES
    warrant = {"referral.lapsed", "referral.warrant_requested", "referral.warrant_rescinded", "referral.withdrawn"}
    assert kind in {"referral.pending_approval", *warrant}
