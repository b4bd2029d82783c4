"""Every warrants handler on the fake unit of work: what it stores, what it publishes, what it
refuses. The same behaviour on SQLite and PostgreSQL is the integration tier's.

A request is only made once warrants' own record has the referral's acceptance and lapse
(`hear_lapse`); the reactions build that record and set an existing request right."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from divert_contracts.milestones import CaseAssessedMilestone
from divert_contracts.referrals import (
    LapseAction,
    Location,
    ReferralAccepted,
    ReferralAssessmentDeadlineLapsed,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
    RmsReference,
    Subject,
)
from divert_contracts.warrants import (
    WarrantRequestAcknowledged,
    WarrantRequestDisposed,
    WarrantRequested,
    WarrantRequestFlagged,
    WarrantRequestRescinded,
)
from divert_platform.cause import Cause, caused_by_event
from divert_warrants.domain.commands import AcknowledgeRequest, RecordDisposition, RequestWarrant
from divert_warrants.domain.referral_facts import LapseNotRecorded
from divert_warrants.domain.warrant_request import (
    FilingRefused,
    InvalidTransition,
    InvalidWarrantRequest,
    WarrantRequestStatus,
)
from divert_warrants.service_layer import handlers

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
LAPSED = DUE + timedelta(seconds=2)
WORKER = Cause(actor="divert-intake-worker", role="deadline_worker")


def lapse(
    referral_id: UUID, due: datetime = DUE, jurisdiction: str = "king-county", kind: LapseAction = "warrant_request"
) -> RequestWarrant:
    """The deadline worker's lapse notice (a claim, checked against the record), two seconds after `due`."""
    lapsed_at = due + (LAPSED - DUE)
    return RequestWarrant(uuid4(), referral_id, jurisdiction, kind, due, lapsed_at, at=lapsed_at)


def accepted(referral_id: UUID, due: datetime | None = DUE, pathway: str = "arrest_diversion") -> ReferralAccepted:
    """Intake's acceptance, with who the person is (which warrants must never keep)."""
    return ReferralAccepted.model_validate(
        {
            "referral_id": referral_id,
            "jurisdiction": "king-county",
            "pathway": pathway,
            "referred_at": DUE - timedelta(days=30),
            "policy": "king-county",
            "policy_version": "2025-01-01",
            "assessment_due_by": due,
            "lapse_action": "warrant_request" if due else None,
            "rms": RmsReference(agency="SPD", case_number="2025-1", officer_id="o-1"),
            "subject": Subject(given_name="Alex", family_name="Example"),
            "location": Location(),
            "offense_category": None,
        }
    )


def lapsed(referral_id: UUID, due: datetime = DUE) -> ReferralAssessmentDeadlineLapsed:
    return ReferralAssessmentDeadlineLapsed(
        referral_id=referral_id,
        jurisdiction="king-county",
        assessment_due_by=due,
        lapsed_at=due + (LAPSED - DUE),
        lapse_action="warrant_request",
    )


def extended(referral_id: UUID, due: datetime) -> ReferralDeadlineExtended:
    return ReferralDeadlineExtended(
        referral_id=referral_id,
        jurisdiction="king-county",
        previous_due_by=DUE,
        assessment_due_by=due,
        reason="in hospital",
        extended_at=DUE - timedelta(days=1),
    )


def assessment(referral_id: UUID, completed_at: datetime) -> CaseAssessedMilestone:
    return CaseAssessedMilestone(
        referral_id=referral_id, jurisdiction="king-county", completed_at=completed_at, on_time=completed_at <= DUE
    )


def withdrawal(referral_id: UUID) -> ReferralWithdrawn:
    return ReferralWithdrawn(referral_id=referral_id, jurisdiction="king-county", withdrawn_at=DUE, reason="error")


async def react(uow, handler, event, event_id: str = "ce-1") -> None:
    """Apply `event` as the consumer runner does: caused by it, committed by the runner."""
    uow.cause = caused_by_event("/divert/assessment", event_id, LAPSED)
    async with uow:
        await handler(event, uow)
        await uow.commit()


async def hear_lapse(uow, referral_id: UUID, due: datetime = DUE) -> None:
    """Intake's acceptance and recorded lapse reach warrants (events "accepted" and "lapse")."""
    await react(uow, handlers.when_referral_accepted_keep_its_deadline, accepted(referral_id, due), "accepted")
    await react(uow, handlers.when_deadline_lapsed_keep_the_lapse, lapsed(referral_id, due), "lapse")


async def request(uow, command: RequestWarrant) -> handlers.Outcome:
    uow.cause = WORKER
    async with uow:
        outcome = await handlers.request_warrant(command, uow)
        await uow.commit()
    return outcome


async def lapsed_request(uow, referral_id: UUID) -> handlers.Outcome:
    await hear_lapse(uow, referral_id)
    return await request(uow, lapse(referral_id))


class TestRequestWarrant:
    async def test_a_lapse_records_and_publishes_one_request(self, uow) -> None:
        outcome = await lapsed_request(uow, uuid4())
        assert outcome.created and outcome.request.status is WarrantRequestStatus.REQUESTED
        assert [type(event) for event in uow.published] == [WarrantRequested]
        assert uow.metadata == [{**WORKER.metadata(), "causation_id": "lapse"}]  # rests on intake's lapse

    async def test_a_repeat_for_the_referral_returns_the_first_request(self, uow) -> None:
        referral_id = uuid4()
        first = await lapsed_request(uow, referral_id)
        again = await request(uow, lapse(referral_id))
        assert (again.created, again.request.id) == (False, first.request.id)
        assert len(uow.published) == 1

    @pytest.mark.parametrize(
        ("fact", "reason"),
        [
            (lambda referral_id: assessment(referral_id, DUE), "assessed_before_deadline"),
            (withdrawal, "referral_withdrawn"),
        ],
    )
    async def test_a_request_already_made_wrongful_is_recorded_with_its_rescission(self, uow, fact, reason) -> None:
        referral_id = uuid4()
        handler = (
            handlers.when_referral_withdrawn_rescind
            if reason == "referral_withdrawn"
            else handlers.when_case_assessed_rescind_if_on_time
        )
        await react(uow, handler, fact(referral_id), event_id="the-fact")
        outcome = await lapsed_request(uow, referral_id)
        assert outcome.request.status is WarrantRequestStatus.RESCINDED
        assert [type(event) for event in uow.published] == [WarrantRequested, WarrantRequestRescinded]
        assert uow.published[-1].reason == reason
        assert uow.metadata[-1] == {"actor": "/divert/warrants", "role": "service", "causation_id": "the-fact"}

    async def test_a_late_assessment_does_not_stop_the_request(self, uow) -> None:
        referral_id = uuid4()
        await react(uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, LAPSED))
        outcome = await lapsed_request(uow, referral_id)
        assert outcome.request.status is WarrantRequestStatus.REQUESTED

    async def test_a_notice_before_the_acceptance_or_the_lapse_is_refused_until_they_arrive(self, uow) -> None:
        referral_id = uuid4()
        with pytest.raises(LapseNotRecorded) as before_acceptance:
            await request(uow, lapse(referral_id))
        await react(uow, handlers.when_referral_accepted_keep_its_deadline, accepted(referral_id), "accepted")
        with pytest.raises(LapseNotRecorded) as before_lapse:
            await request(uow, lapse(referral_id))
        assert (before_acceptance.value.missing, before_lapse.value.missing) == ("referral", "lapse")
        assert uow.published == [] and uow.warrant_requests.streams == {}
        await react(uow, handlers.when_deadline_lapsed_keep_the_lapse, lapsed(referral_id), "lapse")
        assert (await request(uow, lapse(referral_id))).created

    @pytest.mark.parametrize(
        ("claim", "field"),
        [
            ({"due": DUE - timedelta(days=1)}, "assessment_due_by"),
            ({"jurisdiction": "santa-fe"}, "jurisdiction"),
            ({"kind": "return_for_charging"}, "kind"),
        ],
    )
    async def test_a_notice_contradicting_the_record_is_refused(self, uow, claim, field) -> None:
        referral_id = uuid4()
        await hear_lapse(uow, referral_id)
        with pytest.raises(InvalidWarrantRequest) as refused:
            await request(uow, lapse(referral_id, **claim))
        assert refused.value.field == field
        assert uow.published == [] and uow.warrant_requests.streams == {}

    async def test_a_social_contact_referral_never_gets_a_request(self, uow) -> None:
        referral_id = uuid4()
        social = accepted(referral_id, due=None, pathway="social_contact")
        await react(uow, handlers.when_referral_accepted_keep_its_deadline, social)
        with pytest.raises(InvalidWarrantRequest) as refused:
            await request(uow, lapse(referral_id))
        assert refused.value.field == "kind"

    async def test_the_request_is_made_of_the_records_lapse_not_the_notices(self, uow) -> None:
        referral_id = uuid4()
        await hear_lapse(uow, referral_id)
        notice = replace(lapse(referral_id), lapsed_at=LAPSED + timedelta(minutes=5))
        made = (await request(uow, notice)).request
        assert (made.jurisdiction, made.kind, made.assessment_due_by, made.lapsed_at) == (
            "king-county",
            "warrant_request",
            DUE,
            LAPSED,
        )

    async def test_an_extension_is_the_due_time_in_force(self, uow) -> None:
        referral_id, later = uuid4(), DUE + timedelta(days=2)
        await react(uow, handlers.when_referral_accepted_keep_its_deadline, accepted(referral_id), "accepted")
        await react(uow, handlers.when_deadline_extended_move_the_due_time, extended(referral_id, later), "extension")
        await react(uow, handlers.when_deadline_lapsed_keep_the_lapse, lapsed(referral_id, later), "lapse")
        with pytest.raises(InvalidWarrantRequest):
            await request(uow, lapse(referral_id))  # the original, earlier due time
        made = (await request(uow, lapse(referral_id, due=later))).request
        assert made.assessment_due_by == later


class TestAcknowledgeRequest:
    async def test_the_prosecutor_acknowledges_once(self, uow) -> None:
        made = (await lapsed_request(uow, uuid4())).request
        command = AcknowledgeRequest(made.id, by="prosecutor", at=LAPSED)
        for _ in range(2):  # a retry records nothing more
            async with uow:
                acknowledged = await handlers.acknowledge_request(command, uow)
                await uow.commit()
        assert acknowledged.status is WarrantRequestStatus.ACKNOWLEDGED
        assert [type(event) for event in uow.published] == [WarrantRequested, WarrantRequestAcknowledged]

    async def test_an_unknown_request_is_not_found(self, uow) -> None:
        async with uow:
            with pytest.raises(handlers.RequestNotFound):
                await handlers.acknowledge_request(AcknowledgeRequest(uuid4(), by="court", at=LAPSED), uow)

    async def test_a_rescinded_request_cannot_be_acknowledged(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id))
        async with uow:
            with pytest.raises(InvalidTransition):
                await handlers.acknowledge_request(AcknowledgeRequest(made.id, by="court", at=LAPSED), uow)


class TestRecordDisposition:
    async def test_a_disposition_is_published_once(self, uow) -> None:
        made = (await lapsed_request(uow, uuid4())).request
        command = RecordDisposition(made.id, disposition="declined_to_file", at=LAPSED)
        for _ in range(2):  # a retry records nothing more
            async with uow:
                disposed = await handlers.record_disposition(command, uow)
                await uow.commit()
        assert disposed.disposition == "declined_to_file"
        assert [type(event) for event in uow.published] == [
            WarrantRequested,
            WarrantRequestAcknowledged,  # a request acted on is acknowledged: never rescinded silently
            WarrantRequestDisposed,
        ]
        published = uow.published[-1]
        assert isinstance(published, WarrantRequestDisposed)
        assert (published.disposition, published.warrant_request_id, published.jurisdiction) == (
            "declined_to_file",
            made.id,
            "king-county",
        )

    async def test_a_request_filed_on_and_then_found_wrongful_is_flagged_never_rescinded(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        async with uow:
            await handlers.record_disposition(RecordDisposition(made.id, disposition="filed", at=LAPSED), uow)
            await uow.commit()
        await react(uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, DUE))
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and (stored.status, stored.flagged) == (WarrantRequestStatus.ACKNOWLEDGED, True)
        assert stored.disposition == "filed" and type(uow.published[-1]) is WarrantRequestFlagged

    async def test_filing_on_a_rescinded_request_is_refused_and_publishes_nothing(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id))
        published = len(uow.published)
        async with uow:
            with pytest.raises(FilingRefused):
                await handlers.record_disposition(RecordDisposition(made.id, disposition="filed", at=LAPSED), uow)
        assert len(uow.published) == published

    async def test_an_unknown_request_is_not_found(self, uow) -> None:
        async with uow:
            with pytest.raises(handlers.RequestNotFound):
                await handlers.record_disposition(RecordDisposition(uuid4(), disposition="filed", at=LAPSED), uow)


class TestNoWrongfulWarrant:
    async def test_an_on_time_assessment_rescinds_a_standing_request(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        await react(uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, DUE))
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and stored.status is WarrantRequestStatus.RESCINDED
        assert uow.metadata[-1] == {"actor": "/divert/assessment", "role": "service", "causation_id": "ce-1"}

    async def test_a_withdrawal_flags_an_acknowledged_request_for_review(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        async with uow:
            await handlers.acknowledge_request(AcknowledgeRequest(made.id, by="prosecutor", at=LAPSED), uow)
            await uow.commit()
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id))
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id), event_id="ce-2")
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and (stored.status, stored.flagged) == (WarrantRequestStatus.ACKNOWLEDGED, True)
        assert [type(event) for event in uow.published][-1] is WarrantRequestFlagged
        assert sum(isinstance(event, WarrantRequestFlagged) for event in uow.published) == 1

    async def test_an_on_time_assessment_after_an_extension_rescinds(self, uow) -> None:
        referral_id, later = uuid4(), DUE + timedelta(days=2)
        await react(uow, handlers.when_referral_accepted_keep_its_deadline, accepted(referral_id), "accepted")
        await react(uow, handlers.when_deadline_extended_move_the_due_time, extended(referral_id, later), "extension")
        await react(uow, handlers.when_deadline_lapsed_keep_the_lapse, lapsed(referral_id, later), "lapse")
        made = (await request(uow, lapse(referral_id, due=later))).request
        # After the original due time (the milestone's `on_time` is False), before the one in force.
        await react(
            uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, DUE + timedelta(days=1))
        )
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and stored.rescission_reason == "assessed_before_deadline"

    async def test_an_extension_heard_after_the_request_spares_an_assessment_it_covers(self, uow) -> None:
        referral_id = uuid4()
        made = (await lapsed_request(uow, referral_id)).request
        await react(
            uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, DUE + timedelta(hours=1))
        )
        assert (await uow.warrant_requests.get(made.id)).status is WarrantRequestStatus.REQUESTED
        later = DUE + timedelta(days=1)
        await react(uow, handlers.when_deadline_extended_move_the_due_time, extended(referral_id, later), "extension")
        assert (await uow.warrant_requests.get(made.id)).status is WarrantRequestStatus.RESCINDED

    async def test_facts_keep_standing_times_and_event_ids_only(self, uow) -> None:
        referral_id = uuid4()
        await hear_lapse(uow, referral_id)
        await react(uow, handlers.when_case_assessed_rescind_if_on_time, assessment(referral_id, DUE))
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id), event_id="ce-2")
        facts = uow.referral_facts.facts[referral_id]
        assert vars(facts) == {
            "referral_id": referral_id,
            "jurisdiction": "king-county",
            "pathway": "arrest_diversion",
            "lapse_action": "warrant_request",
            "accepted_event_id": "accepted",
            "assessment_due_by": DUE,
            "due_event_id": "accepted",
            "lapsed_at": LAPSED,
            "due_at_lapse": DUE,
            "lapse_event_id": "lapse",
            "assessment_completed_at": DUE,
            "assessment_event_id": "ce-1",
            "withdrawn_at": DUE,
            "withdrawal_event_id": "ce-2",
            # The police's own facts, never who the person is:
            "rms_agency": "SPD",
            "rms_case_number": "2025-1",
            "officer_id": "o-1",
            "offense_category": None,
            "offense_statute": None,
            "referred_at": DUE - timedelta(days=30),
            "policy_version": "2025-01-01",
            "accepted_due_by": DUE,
        }
        assert uow.published == []  # nothing to rescind yet
