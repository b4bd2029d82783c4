"""The referral aggregate: decisions, assessment and lapse, replayed from events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.referral import InvalidReferral, InvalidTransition, Referral, ReferralStatus
from divert_intake.service_layer.integration import to_integration_event

DEMO = load_policy_book().get("demo")
assert DEMO is not None
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def command(*, pathway="arrest_diversion", amenable: bool = True, referred_at: datetime = NOW) -> SubmitReferral:
    return SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="demo",
        pathway=pathway,
        referred_at=referred_at,
        rms=RmsReference(agency="PD", case_number="1", officer_id="9"),
        subject=Subject(given_name="Sam", family_name="Lee"),
        location=Location(),
        offense=Offense(category="drug_possession", drug_quantity_grams=1),
        screening=Screening(
            amenable=amenable,
            dealing_for_profit=False,
            exploits_minors=False,
            promotes_prostitution=False,
            on_state_probation=True,
            in_treatment_court=False,
            no_contact_order_with_participant=False,
            prior_involvement_documented_on=(NOW - timedelta(days=60)).date(),
        ),
        contact_drivers=("drug_use",),
        at=NOW,
    )


def test_accepted_arrest_diversion_has_a_due_time_and_no_screening_facts_in_its_event() -> None:
    referral = Referral.submit(command(), DEMO)
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.assessment_due_by == NOW + DEMO.assessment_window
    [event] = referral.pending
    stored = event.model_dump(mode="json")
    assert "screening" not in stored and "on_state_probation" not in str(stored)


def test_social_contact_never_gets_a_deadline() -> None:
    referral = Referral.submit(command(pathway="social_contact"), DEMO)
    assert referral.assessment_due_by is None and referral.lapse_action is None
    referral.record_lapse(NOW + timedelta(days=60))
    assert referral.status == ReferralStatus.ACCEPTED


def test_a_declined_referral_keeps_and_publishes_no_subject_details() -> None:
    referral = Referral.submit(command(amenable=False), DEMO)
    assert referral.status == ReferralStatus.DECLINED
    [event] = referral.pending
    assert "subject" not in event.model_dump()
    published = to_integration_event(event, referral)
    assert published is not None and published.event_type == "org.divert.referral.declined.v1"
    assert "subject" not in published.model_dump() and [r.code for r in published.reasons] == ["not_amenable"]


def test_a_referral_from_the_future_is_refused() -> None:
    with pytest.raises(InvalidReferral) as error:
        Referral.submit(command(referred_at=NOW + timedelta(hours=1)), DEMO)
    assert error.value.field == "referred_at"


def test_assessment_then_lapse_leaves_it_assessed_and_replays_identically() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.record_assessment(NOW + timedelta(seconds=5))
    referral.record_lapse(NOW + timedelta(seconds=30))
    assert referral.status == ReferralStatus.ASSESSED
    assert [type(e) for e in referral.pending] == [events.ReferralAccepted, events.AssessmentRecorded]
    replayed = Referral.from_events(referral.id, referral.pending)
    assert (replayed.status, replayed.version) == (ReferralStatus.ASSESSED, 2)


def test_lapse_is_recorded_once() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.record_lapse(NOW + timedelta(seconds=30))
    referral.record_lapse(NOW + timedelta(seconds=31))
    assert referral.status == ReferralStatus.LAPSED
    assert len(referral.pending) == 2
    lapsed = to_integration_event(referral.pending[-1], referral)
    assert lapsed is not None and lapsed.event_type == "org.divert.referral.assessment_deadline_lapsed.v1"


def test_a_late_assessment_is_recorded_as_not_on_time() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.record_assessment(NOW + timedelta(minutes=5))
    recorded = referral.pending[-1]
    assert isinstance(recorded, events.AssessmentRecorded) and recorded.on_time is False


def test_withdrawal_stops_the_referral_and_is_refused_twice() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.withdraw("wrong person", NOW + timedelta(seconds=1))
    assert referral.status == ReferralStatus.WITHDRAWN
    with pytest.raises(InvalidTransition) as error:
        referral.withdraw("again", NOW + timedelta(seconds=2))
    assert error.value.current == ReferralStatus.WITHDRAWN
    referral.record_lapse(NOW + timedelta(days=1))  # a late lapse changes nothing
    assert referral.status == ReferralStatus.WITHDRAWN


def test_a_declined_referral_cannot_be_withdrawn() -> None:
    referral = Referral.submit(command(amenable=False), DEMO)
    with pytest.raises(InvalidTransition):
        referral.withdraw("error", NOW)


def test_extensions_only_move_the_due_time_later_and_may_repeat() -> None:
    referral = Referral.submit(command(), DEMO)
    first_due = referral.assessment_due_by
    assert first_due is not None
    referral.extend_deadline(first_due + timedelta(days=7), "hospitalised", NOW)
    referral.extend_deadline(first_due + timedelta(days=14), "still in hospital", NOW)
    assert referral.assessment_due_by == first_due + timedelta(days=14)
    with pytest.raises(InvalidReferral) as error:
        referral.extend_deadline(first_due + timedelta(days=10), "shorter", NOW)
    assert error.value.field == "assessment_due_by"
    replayed = Referral.from_events(referral.id, referral.pending)
    assert replayed.assessment_due_by == first_due + timedelta(days=14)


def test_only_a_pending_arrest_diversion_can_be_extended() -> None:
    social = Referral.submit(command(pathway="social_contact"), DEMO)
    with pytest.raises(InvalidTransition):
        social.extend_deadline(NOW + timedelta(days=40), "n/a", NOW)
    lapsed = Referral.submit(command(), DEMO)
    lapsed.record_lapse(NOW + timedelta(minutes=1))
    with pytest.raises(InvalidTransition):
        lapsed.extend_deadline(NOW + timedelta(days=40), "too late", NOW)


def test_a_warrant_request_is_noted_once() -> None:
    referral = Referral.submit(command(), DEMO)
    request_id = uuid4()
    referral.note_warrant_request(request_id)
    referral.note_warrant_request(request_id)
    assert referral.warrant_requested and len(referral.pending) == 2


def test_a_timely_assessment_reported_after_the_lapse_turns_it_into_assessed_on_time() -> None:
    referral = Referral.submit(command(), DEMO)
    due = referral.assessment_due_by
    assert due is not None
    referral.record_lapse(due + timedelta(seconds=1))
    referral.record_assessment(due - timedelta(seconds=1))
    assert referral.status == ReferralStatus.ASSESSED
    recorded = referral.pending[-1]
    assert isinstance(recorded, events.AssessmentRecorded) and recorded.on_time


def test_a_late_assessment_after_the_lapse_leaves_it_lapsed() -> None:
    referral = Referral.submit(command(), DEMO)
    due = referral.assessment_due_by
    assert due is not None
    referral.record_lapse(due + timedelta(seconds=1))
    referral.record_assessment(due + timedelta(seconds=1))
    assert referral.status == ReferralStatus.LAPSED


def test_a_rescinded_warrant_is_no_longer_shown_as_requested() -> None:
    referral = Referral.submit(command(), DEMO)
    request_id = uuid4()
    referral.note_warrant_request(request_id)
    referral.note_warrant_rescission(request_id)
    referral.note_warrant_rescission(request_id)
    assert not referral.warrant_requested and len(referral.pending) == 3


def test_enrollment_is_noted_once() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.record_assessment(NOW + timedelta(seconds=5))
    referral.note_enrollment(NOW + timedelta(days=1))
    referral.note_enrollment(NOW + timedelta(days=2))
    assert referral.enrolled and len(referral.pending) == 3
    assert Referral.from_events(referral.id, referral.pending).enrolled


def test_a_warrant_is_due_unless_intake_knows_of_a_withdrawal_or_an_on_time_assessment() -> None:
    lapsed = Referral.submit(command(), DEMO)
    lapsed.record_lapse(NOW + timedelta(seconds=30))
    withdrawn = Referral.submit(command(), DEMO)
    withdrawn.withdraw("wrong person", NOW + timedelta(seconds=1))
    on_time = Referral.submit(command(), DEMO)
    on_time.record_assessment(NOW + timedelta(seconds=5))
    late = Referral.submit(command(), DEMO)
    late.record_assessment(NOW + timedelta(minutes=5))  # assessed, but after the window closed

    assert (lapsed.warrant_still_due, late.warrant_still_due) == (True, True)
    assert (withdrawn.warrant_still_due, on_time.warrant_still_due) == (False, False)
    assert Referral.from_events(on_time.id, on_time.pending).warrant_still_due is False  # survives replay
