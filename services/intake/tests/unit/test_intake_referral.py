"""The referral aggregate: decisions, assessment and lapse, replayed from events."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.domain import events
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.reasons import SCREENING_REASON
from divert_intake.domain.referral import (
    InvalidReferral,
    InvalidTransition,
    LapseRefusal,
    LapseRefused,
    Referral,
    ReferralStatus,
)
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


def lapse(referral: Referral, after: timedelta = timedelta(seconds=1)) -> None:
    """Record the lapse of the referral's window in force, reported and seen `after` its due time."""
    due = referral.assessment_due_by
    assert due is not None
    referral.record_lapse(due, due + after, due + after)


def test_accepted_arrest_diversion_has_a_due_time_and_no_screening_facts_in_its_event() -> None:
    referral = Referral.submit(command(), DEMO)
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.assessment_due_by == NOW + DEMO.assessment_window
    [event] = referral.pending
    stored = event.model_dump(mode="json")
    assert "screening" not in stored and "on_state_probation" not in str(stored)


def test_an_accepted_referral_publishes_the_police_facts_warrants_shows_the_prosecutor() -> None:
    submitted = replace(command(), offense=Offense(category="drug_possession", statute="RCW 69.50.4013"))
    referral = Referral.submit(submitted, DEMO)
    published = to_integration_event(referral.pending[0], referral)
    assert published is not None and published.event_type == "org.divert.referral.accepted.v1"
    assert (published.rms.agency, published.rms.case_number, published.rms.officer_id) == ("PD", "1", "9")
    assert (published.offense_category, published.offense_statute) == ("drug_possession", "RCW 69.50.4013")
    assert (published.policy_version, published.referred_at) == (DEMO.version, NOW)


def test_social_contact_never_gets_a_deadline() -> None:
    referral = Referral.submit(command(pathway="social_contact"), DEMO)
    assert referral.assessment_due_by is None and referral.lapse_action is None
    with pytest.raises(LapseRefused) as refused:
        referral.record_lapse(NOW, NOW, NOW + timedelta(days=60))
    assert refused.value.reason is LapseRefusal.NOT_ARREST_DIVERSION
    assert referral.status == ReferralStatus.ACCEPTED and len(referral.pending) == 1


def test_a_declined_referral_keeps_and_publishes_no_subject_details() -> None:
    referral = Referral.submit(command(amenable=False), DEMO)
    assert referral.status == ReferralStatus.DECLINED
    [event] = referral.pending
    assert "subject" not in event.model_dump()
    published = to_integration_event(event, referral)
    assert published is not None and published.event_type == "org.divert.referral.declined.v1"
    assert "subject" not in published.model_dump() and [r.code for r in published.reasons] == ["screening"]


def test_a_decline_on_screening_is_told_in_full_but_recorded_as_screening_only() -> None:
    referral = Referral.submit(command(amenable=False), DEMO)
    assert referral.decision_told is not None
    assert [r.code for r in referral.decision_told.reasons] == ["not_amenable"]
    [event] = referral.pending
    assert isinstance(event, events.ReferralDeclined)
    assert [(r.code, r.message) for r in event.reasons] == [(SCREENING_REASON.code, SCREENING_REASON.message)]
    assert "amenable" not in event.model_dump_json()
    assert referral.decision is not None and [r.code for r in referral.decision.reasons] == ["screening"]
    assert (event.policy, event.policy_version) == ("demo", DEMO.version)


def test_offense_reasons_are_recorded_as_given_before_the_one_screening_reason() -> None:
    over_limit = replace(command(amenable=False), offense=Offense(category="drug_possession", drug_quantity_grams=4))
    referral = Referral.submit(over_limit, DEMO)
    [event] = referral.pending
    assert isinstance(event, events.ReferralDeclined)
    assert [(r.code, r.message) for r in event.reasons] == [
        ("drug_quantity_over_limit", "More than 3 g of drugs."),
        (SCREENING_REASON.code, SCREENING_REASON.message),
    ]


def test_a_decline_on_the_offense_alone_is_recorded_as_given() -> None:
    not_diverted_here = replace(command(), offense=Offense(category="grand_theft_auto"))
    [event] = Referral.submit(not_diverted_here, DEMO).pending
    assert isinstance(event, events.ReferralDeclined) and [r.code for r in event.reasons] == ["offense_not_eligible"]


def test_screening_reasons_recorded_before_they_were_kept_as_one_do_not_come_back_on_load() -> None:
    legacy = events.ReferralDeclined(
        referral_id=uuid4(),
        jurisdiction="santa-fe",
        pathway="arrest_diversion",
        referred_at=NOW,
        policy="santa-fe",
        policy_version="2026-01-01",
        reasons=(
            events.ReasonRecord(code="under_minimum_age", message="The person is under 18."),
            events.ReasonRecord(code="on_state_probation", message="The person was under state probation."),
            events.ReasonRecord(code="a_code_no_rule_knows", message="Anything else."),
        ),
        rms=RmsReference(agency="SFPD", case_number="1", officer_id="9"),
    )
    loaded = Referral.from_events(legacy.referral_id, [legacy])
    assert loaded.decision is not None and loaded.decision_told is None
    assert [r.code for r in loaded.decision.reasons] == ["under_minimum_age", "screening"]


def test_a_referral_from_the_future_is_refused() -> None:
    with pytest.raises(InvalidReferral) as error:
        Referral.submit(command(referred_at=NOW + timedelta(hours=1)), DEMO)
    assert error.value.field == "referred_at"


def test_assessment_then_lapse_leaves_it_assessed_and_replays_identically() -> None:
    referral = Referral.submit(command(), DEMO)
    referral.record_assessment(NOW + timedelta(seconds=5))
    with pytest.raises(LapseRefused) as refused:
        lapse(referral, after=timedelta(seconds=10))
    assert refused.value.reason is LapseRefusal.ASSESSED_ON_TIME
    assert referral.status == ReferralStatus.ASSESSED
    assert [type(e) for e in referral.pending] == [events.ReferralAccepted, events.AssessmentRecorded]
    replayed = Referral.from_events(referral.id, referral.pending)
    assert (replayed.status, replayed.version) == (ReferralStatus.ASSESSED, 2)


def test_lapse_is_recorded_once() -> None:
    referral = Referral.submit(command(), DEMO)
    lapse(referral, after=timedelta(seconds=10))
    lapse(referral, after=timedelta(seconds=11))  # the same window again: no news
    assert referral.status == ReferralStatus.LAPSED
    assert len(referral.pending) == 2
    lapsed = to_integration_event(referral.pending[-1], referral)
    assert lapsed is not None and lapsed.event_type == "org.divert.referral.assessment_deadline_lapsed.v1"
    assert Referral.from_events(referral.id, referral.pending).lapsed_at == referral.lapsed_at


class TestLapseChecks:
    """A reported lapse is a claim: the referral's own record decides whether it happened."""

    def test_an_accepted_arrest_diversion_lapses_once_its_due_time_has_passed(self) -> None:
        referral = Referral.submit(command(), DEMO)
        due = referral.assessment_due_by
        assert due is not None
        assert referral.lapse_refusal(due, due) is None  # at the due time exactly, the window is closed
        referral.record_lapse(due, due + timedelta(seconds=2), due + timedelta(seconds=3))
        recorded = referral.pending[-1]
        assert isinstance(recorded, events.AssessmentDeadlineLapsed)
        assert (recorded.assessment_due_by, recorded.lapsed_at, recorded.lapse_action) == (
            due,
            due + timedelta(seconds=2),
            "warrant_request",
        )

    def test_a_window_not_yet_closed_by_the_recorders_clock_is_refused(self) -> None:
        referral = Referral.submit(command(), DEMO)
        due = referral.assessment_due_by
        assert due is not None
        with pytest.raises(LapseRefused) as refused:
            referral.record_lapse(due, due, due - timedelta(microseconds=1))
        assert refused.value.reason is LapseRefusal.NOT_YET_DUE
        assert (referral.status, len(referral.pending)) == (ReferralStatus.ACCEPTED, 1)

    def test_a_due_time_other_than_the_one_in_force_is_refused(self) -> None:
        referral = Referral.submit(command(), DEMO)
        due = referral.assessment_due_by
        assert due is not None
        referral.extend_deadline(due + timedelta(days=7), "in hospital", NOW)
        for claimed in (due, due - timedelta(days=1), due + timedelta(days=8)):  # the old, an earlier, a later one
            assert referral.lapse_refusal(claimed, due + timedelta(days=30)) is LapseRefusal.DUE_TIME_MISMATCH
        assert referral.lapse_refusal(due + timedelta(days=7), due + timedelta(days=30)) is None

    def test_after_a_recorded_lapse_only_the_same_window_is_no_news(self) -> None:
        referral = Referral.submit(command(), DEMO)
        due = referral.assessment_due_by
        assert due is not None
        lapse(referral)
        assert referral.lapse_refusal(due, due + timedelta(days=1)) is None
        with pytest.raises(LapseRefused) as refused:
            referral.record_lapse(due + timedelta(days=1), due + timedelta(days=1), due + timedelta(days=2))
        assert refused.value.reason is LapseRefusal.DUE_TIME_MISMATCH
        referral.withdraw("wrong person", due + timedelta(days=1))  # a withdrawal after the lapse
        assert referral.lapse_refusal(due, due + timedelta(days=2)) is None and len(referral.pending) == 3

    def test_declined_withdrawn_and_assessed_on_time_referrals_never_lapse(self) -> None:
        later = NOW + timedelta(days=1)
        declined = Referral.submit(command(amenable=False), DEMO)
        withdrawn = Referral.submit(command(), DEMO)
        withdrawn.withdraw("wrong person", NOW + timedelta(seconds=1))
        assessed = Referral.submit(command(), DEMO)
        assessed.record_assessment(NOW + timedelta(seconds=5))
        due = NOW + DEMO.assessment_window
        assert [r.lapse_refusal(due, later) for r in (declined, withdrawn, assessed)] == [
            LapseRefusal.NOT_ACCEPTED,
            LapseRefusal.WITHDRAWN,
            LapseRefusal.ASSESSED_ON_TIME,
        ]

    def test_an_assessment_completed_after_the_due_time_does_not_stop_the_lapse(self) -> None:
        referral = Referral.submit(command(), DEMO)
        referral.record_assessment(NOW + timedelta(minutes=5))  # late: the window had closed
        lapse(referral, after=timedelta(minutes=6))
        assert referral.status == ReferralStatus.LAPSED and referral.warrant_still_due

    def test_the_recorded_lapse_time_lies_between_the_due_time_and_the_recorders_clock(self) -> None:
        early, future = Referral.submit(command(), DEMO), Referral.submit(command(), DEMO)
        due = NOW + DEMO.assessment_window
        seen = due + timedelta(seconds=5)
        early.record_lapse(due, due - timedelta(days=1), seen)
        future.record_lapse(due, due + timedelta(days=1), seen)
        assert (early.lapsed_at, future.lapsed_at) == (due, seen)

    def test_only_an_accepted_arrest_diversion_has_a_pending_deadline(self) -> None:
        pending = Referral.submit(command(), DEMO)
        social = Referral.submit(command(pathway="social_contact"), DEMO)
        declined = Referral.submit(command(amenable=False), DEMO)
        lapsed = Referral.submit(command(), DEMO)
        lapse(lapsed)
        assessed = Referral.submit(command(), DEMO)
        assessed.record_assessment(NOW + timedelta(minutes=5))
        withdrawn = Referral.submit(command(), DEMO)
        withdrawn.withdraw("x", NOW)
        assert [r.deadline_pending for r in (pending, social, declined, lapsed, assessed, withdrawn)] == [
            True,
            False,
            False,
            False,
            False,
            False,
        ]


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
    with pytest.raises(LapseRefused):  # a late lapse changes nothing
        lapse(referral, after=timedelta(days=1))
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
    lapse(lapsed)
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
    lapse(referral)
    referral.record_assessment(due - timedelta(seconds=1))
    assert referral.status == ReferralStatus.ASSESSED
    recorded = referral.pending[-1]
    assert isinstance(recorded, events.AssessmentRecorded) and recorded.on_time


def test_a_late_assessment_after_the_lapse_leaves_it_lapsed() -> None:
    referral = Referral.submit(command(), DEMO)
    due = referral.assessment_due_by
    assert due is not None
    lapse(referral)
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
    lapse(lapsed)
    withdrawn = Referral.submit(command(), DEMO)
    withdrawn.withdraw("wrong person", NOW + timedelta(seconds=1))
    on_time = Referral.submit(command(), DEMO)
    on_time.record_assessment(NOW + timedelta(seconds=5))
    late = Referral.submit(command(), DEMO)
    late.record_assessment(NOW + timedelta(minutes=5))  # assessed, but after the window closed

    assert (lapsed.warrant_still_due, late.warrant_still_due) == (True, True)
    assert (withdrawn.warrant_still_due, on_time.warrant_still_due) == (False, False)
    assert Referral.from_events(on_time.id, on_time.pending).warrant_still_due is False  # survives replay
