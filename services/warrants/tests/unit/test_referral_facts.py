"""Referral facts, warrants' own record: the due time in force, whether a lapse notice may become a
request (`recorded_lapse`), and which remembered fact makes a request wrongful."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_contracts.referrals import Pathway
from divert_warrants.domain.commands import RequestWarrant
from divert_warrants.domain.referral_facts import LapseNotRecorded, LapseSuperseded, RecordedLapse, ReferralFacts
from divert_warrants.domain.warrant_request import InvalidWarrantRequest

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def test_nothing_known_rescinds_nothing() -> None:
    assert accepted().reason_to_rescind() is None


def test_an_assessment_at_or_before_the_due_time_rescinds() -> None:
    for completed_at in (DUE - SECOND, DUE):
        facts = accepted()
        facts.note_assessment(completed_at, "ce-1")
        assert facts.reason_to_rescind() == "assessed_before_deadline"
        assert facts.cause_of("assessed_before_deadline") == "ce-1"


def test_an_assessment_after_the_due_time_never_rescinds() -> None:
    facts = accepted()
    facts.note_assessment(DUE + SECOND, "ce-1")
    assert facts.reason_to_rescind() is None


def test_the_earliest_assessment_counts() -> None:
    facts = accepted()
    facts.note_assessment(DUE + SECOND, "late")
    facts.note_assessment(DUE - SECOND, "early")
    facts.note_assessment(DUE + 2 * SECOND, "later")
    assert (facts.assessment_completed_at, facts.assessment_event_id) == (DUE - SECOND, "early")


def test_a_withdrawal_rescinds_whatever_the_time() -> None:
    facts = accepted()
    facts.note_withdrawal(DUE + timedelta(days=3), "ce-w")
    facts.note_withdrawal(DUE, "ce-again")
    assert facts.reason_to_rescind() == "referral_withdrawn"
    assert facts.cause_of("referral_withdrawn") == "ce-w"


def test_an_on_time_assessment_is_named_before_a_withdrawal() -> None:
    facts = accepted()
    facts.note_withdrawal(DUE, "ce-w")
    facts.note_assessment(DUE - SECOND, "ce-a")
    assert facts.reason_to_rescind() == "assessed_before_deadline"


def accepted(due: datetime | None = DUE, pathway: Pathway = "arrest_diversion") -> ReferralFacts:
    facts = ReferralFacts(uuid4())
    facts.note_acceptance("king-county", pathway, due, "warrant_request" if due else None, "ce-accepted")
    return facts


def lapsed(due: datetime = DUE) -> ReferralFacts:
    facts = accepted(due)
    facts.note_lapse(due + 2 * SECOND, due, "ce-lapse")
    return facts


def claim(facts: ReferralFacts, **changes: object) -> RequestWarrant:
    values: dict[str, object] = {
        "warrant_request_id": uuid4(),
        "referral_id": facts.referral_id,
        "jurisdiction": "king-county",
        "kind": "warrant_request",
        "assessment_due_by": DUE,
        "lapsed_at": DUE + 2 * SECOND,
        "at": DUE + 3 * SECOND,
    }
    values.update(changes)
    return RequestWarrant(**values)


class TestTheDueTimeInForce:
    def test_it_is_the_acceptances_until_an_extension_moves_it_later(self) -> None:
        facts = accepted()
        assert (facts.assessment_due_by, facts.due_event_id) == (DUE, "ce-accepted")
        facts.note_extension(DUE + DAY, "ce-extended")
        assert (facts.assessment_due_by, facts.due_event_id) == (DUE + DAY, "ce-extended")

    def test_it_never_moves_earlier_whoever_says_so(self) -> None:
        facts = accepted(DUE + DAY)
        facts.note_extension(DUE, "ce-earlier")
        facts.note_lapse(DUE + DAY + SECOND, DUE, "ce-lapse")
        facts.note_acceptance("king-county", "arrest_diversion", DUE, "warrant_request", "ce-again")
        assert (facts.assessment_due_by, facts.due_event_id) == (DUE + DAY, "ce-accepted")

    def test_a_lapse_at_a_later_due_time_than_heard_of_moves_it(self) -> None:
        facts = accepted()
        facts.note_lapse(DUE + DAY + SECOND, DUE + DAY, "ce-lapse")  # an extension warrants missed
        assert (facts.assessment_due_by, facts.due_at_lapse) == (DUE + DAY, DUE + DAY)

    def test_the_first_acceptance_and_lapse_told_count(self) -> None:
        facts = lapsed()
        facts.note_acceptance("demo", "social_contact", None, None, "ce-other")
        facts.note_lapse(DUE + DAY, DUE, "ce-lapse-again")
        assert (facts.jurisdiction, facts.pathway, facts.accepted_event_id) == (
            "king-county",
            "arrest_diversion",
            "ce-accepted",
        )
        assert (facts.lapsed_at, facts.lapse_event_id) == (DUE + 2 * SECOND, "ce-lapse")

    def test_an_assessment_is_judged_against_it_not_an_earlier_one(self) -> None:
        facts = accepted()
        facts.note_extension(DUE + DAY, "ce-extended")
        facts.note_assessment(DUE + SECOND, "ce-assessed")  # late for the original, on time now
        assert facts.reason_to_rescind() == "assessed_before_deadline"
        assert facts.reason_to_rescind(recorded_due=DUE) == "assessed_before_deadline"  # the record wins

    def test_a_record_without_a_due_time_judges_by_the_requests_own(self) -> None:
        facts = ReferralFacts(uuid4())  # a request recorded before warrants kept due times
        facts.note_assessment(DUE, "ce-assessed")
        assert facts.reason_to_rescind() is None
        assert facts.reason_to_rescind(recorded_due=DUE) == "assessed_before_deadline"


class TestRecordedLapse:
    def test_a_truthful_claim_gets_the_records_lapse(self) -> None:
        recorded = lapsed().recorded_lapse(claim(ReferralFacts(uuid4()), lapsed_at=DUE + DAY))
        assert recorded == RecordedLapse("king-county", "warrant_request", DUE, DUE + 2 * SECOND)

    def test_nothing_heard_of_the_referral_is_not_recorded_yet(self) -> None:
        facts = ReferralFacts(uuid4())
        with pytest.raises(LapseNotRecorded) as refused:
            facts.recorded_lapse(claim(facts))
        assert refused.value.missing == "referral"

    def test_an_accepted_referral_without_its_lapse_is_not_recorded_yet(self) -> None:
        facts = accepted()
        facts.note_extension(DUE + DAY, "ce-extended")
        with pytest.raises(LapseNotRecorded) as refused:
            facts.recorded_lapse(claim(facts))
        assert refused.value.missing == "lapse"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"lapsed_at": DUE - SECOND}, "lapsed_at"),
            ({"jurisdiction": "demo"}, "jurisdiction"),
            ({"kind": "return_for_charging"}, "kind"),
            ({"assessment_due_by": DUE - DAY}, "assessment_due_by"),
            ({"assessment_due_by": DUE + SECOND}, "assessment_due_by"),
        ],
    )
    def test_a_claim_contradicting_the_record_names_the_field(self, changes: dict[str, object], field: str) -> None:
        facts = lapsed()
        with pytest.raises(InvalidWarrantRequest) as refused:
            facts.recorded_lapse(claim(facts, **changes))
        assert refused.value.field == field

    def test_a_jurisdiction_or_kind_contradiction_is_final_before_the_lapse_arrives(self) -> None:
        facts = accepted()
        with pytest.raises(InvalidWarrantRequest):
            facts.recorded_lapse(claim(facts, jurisdiction="demo"))

    def test_a_referral_without_a_deadline_never_lapses(self) -> None:
        facts = accepted(due=None, pathway="social_contact")
        with pytest.raises(InvalidWarrantRequest) as refused:
            facts.recorded_lapse(claim(facts))
        assert refused.value.field == "kind"

    def test_a_lapse_an_extension_moved_past_is_superseded(self) -> None:
        facts = lapsed()
        facts.note_extension(DUE + DAY, "ce-extended")
        with pytest.raises(LapseSuperseded):
            facts.recorded_lapse(claim(facts, assessment_due_by=DUE + DAY, lapsed_at=DUE + DAY))
