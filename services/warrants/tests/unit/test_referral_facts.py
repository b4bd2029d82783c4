"""Referral facts: which remembered fact makes a request with a given due time wrongful."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from divert_warrants.domain.referral_facts import ReferralFacts

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_nothing_known_rescinds_nothing() -> None:
    assert ReferralFacts(uuid4()).reason_to_rescind(DUE) is None


def test_an_assessment_at_or_before_the_due_time_rescinds() -> None:
    for completed_at in (DUE - SECOND, DUE):
        facts = ReferralFacts(uuid4())
        facts.note_assessment(completed_at, "ce-1")
        assert facts.reason_to_rescind(DUE) == "assessed_before_deadline"
        assert facts.cause_of("assessed_before_deadline") == "ce-1"


def test_an_assessment_after_the_due_time_never_rescinds() -> None:
    facts = ReferralFacts(uuid4())
    facts.note_assessment(DUE + SECOND, "ce-1")
    assert facts.reason_to_rescind(DUE) is None


def test_the_earliest_assessment_counts() -> None:
    facts = ReferralFacts(uuid4())
    facts.note_assessment(DUE + SECOND, "late")
    facts.note_assessment(DUE - SECOND, "early")
    facts.note_assessment(DUE + 2 * SECOND, "later")
    assert (facts.assessment_completed_at, facts.assessment_event_id) == (DUE - SECOND, "early")


def test_a_withdrawal_rescinds_whatever_the_time() -> None:
    facts = ReferralFacts(uuid4())
    facts.note_withdrawal(DUE + timedelta(days=3), "ce-w")
    facts.note_withdrawal(DUE, "ce-again")
    assert facts.reason_to_rescind(DUE) == "referral_withdrawn"
    assert facts.cause_of("referral_withdrawn") == "ce-w"


def test_an_on_time_assessment_is_named_before_a_withdrawal() -> None:
    facts = ReferralFacts(uuid4())
    facts.note_withdrawal(DUE, "ce-w")
    facts.note_assessment(DUE - SECOND, "ce-a")
    assert facts.reason_to_rescind(DUE) == "assessed_before_deadline"
