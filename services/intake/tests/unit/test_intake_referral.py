"""The referral aggregate: decisions, assessment and lapse, replayed from events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.referral import InvalidReferral, Referral, ReferralStatus, SubmitReferral
from divert_intake.service_layer.integration import to_integration_event

DEMO = load_policy_book().get("demo")
assert DEMO is not None
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def command(*, pathway: str = "arrest_diversion", amenable: bool = True, referred_at: datetime = NOW) -> SubmitReferral:
    return SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="demo",
        pathway=pathway,
        referred_at=referred_at,  # type: ignore[arg-type]
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
        ),
        contact_drivers=("drug_use",),
    )


def test_accepted_arrest_diversion_has_a_due_time_and_no_screening_facts_in_its_event() -> None:
    referral = Referral.submit(command(), DEMO, NOW)
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.assessment_due_by == NOW + DEMO.assessment_window
    [event] = referral.pending
    stored = event.model_dump(mode="json")
    assert "screening" not in stored and "on_state_probation" not in str(stored)


def test_social_contact_never_gets_a_deadline() -> None:
    referral = Referral.submit(command(pathway="social_contact"), DEMO, NOW)
    assert referral.assessment_due_by is None and referral.lapse_action is None
    referral.record_lapse(NOW + timedelta(days=60))
    assert referral.status == ReferralStatus.ACCEPTED


def test_ineligible_referral_keeps_no_subject_details() -> None:
    referral = Referral.submit(command(amenable=False), DEMO, NOW)
    assert referral.status == ReferralStatus.INELIGIBLE
    [event] = referral.pending
    assert "subject" not in event.model_dump()
    assert to_integration_event(event) is None  # nothing goes to case agencies


def test_a_referral_from_the_future_is_refused() -> None:
    with pytest.raises(InvalidReferral) as error:
        Referral.submit(command(referred_at=NOW + timedelta(hours=1)), DEMO, NOW)
    assert error.value.field == "referred_at"


def test_assessment_then_lapse_leaves_it_assessed_and_replays_identically() -> None:
    referral = Referral.submit(command(), DEMO, NOW)
    referral.record_assessment(NOW + timedelta(seconds=5))
    referral.record_lapse(NOW + timedelta(seconds=30))
    assert referral.status == ReferralStatus.ASSESSED
    assert [type(e) for e in referral.pending] == [events.ReferralAccepted, events.AssessmentRecorded]
    replayed = Referral.from_events(referral.id, referral.pending)
    assert (replayed.status, replayed.version) == (ReferralStatus.ASSESSED, 2)


def test_lapse_is_recorded_once() -> None:
    referral = Referral.submit(command(), DEMO, NOW)
    referral.record_lapse(NOW + timedelta(seconds=30))
    referral.record_lapse(NOW + timedelta(seconds=31))
    assert referral.status == ReferralStatus.LAPSED
    assert len(referral.pending) == 2
    lapsed = to_integration_event(referral.pending[-1])
    assert lapsed is not None and lapsed.event_type == "org.divert.referral.assessment_deadline_lapsed.v1"


def test_a_late_assessment_is_recorded_as_not_on_time() -> None:
    referral = Referral.submit(command(), DEMO, NOW)
    referral.record_assessment(NOW + timedelta(minutes=5))
    recorded = referral.pending[-1]
    assert isinstance(recorded, events.AssessmentRecorded) and recorded.on_time is False
