"""Every warrants handler on the fake unit of work: what it stores, what it publishes, what it
refuses. The same behaviour on SQLite and PostgreSQL is the integration tier's."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.referrals import ReferralWithdrawn
from divert_contracts.warrants import (
    WarrantRequestAcknowledged,
    WarrantRequested,
    WarrantRequestFlagged,
    WarrantRequestRescinded,
)
from divert_platform.cause import Cause, caused_by_event
from divert_warrants.domain.commands import AcknowledgeRequest, RequestWarrant
from divert_warrants.domain.warrant_request import InvalidTransition, WarrantRequestStatus
from divert_warrants.service_layer import handlers

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
LAPSED = DUE + timedelta(seconds=2)
WORKFLOW = Cause(actor="divert-intake", role="service")


def lapse(referral_id: UUID) -> RequestWarrant:
    return RequestWarrant(uuid4(), referral_id, "king-county", "warrant_request", DUE, LAPSED, LAPSED)


def assessment(referral_id: UUID, completed_at: datetime) -> CaseAssessmentCompleted:
    return CaseAssessmentCompleted.model_validate(
        {
            "referral_id": str(referral_id),
            "jurisdiction": "king-county",
            "completed_at": completed_at,
            "assessment_due_by": DUE,
            "on_time": completed_at <= DUE,
            "needs": [{"domain": "housing", "priority": 1, "part2": False}],
        }
    )


def withdrawal(referral_id: UUID) -> ReferralWithdrawn:
    return ReferralWithdrawn(referral_id=referral_id, jurisdiction="king-county", withdrawn_at=DUE, reason="error")


async def react(uow, handler, event, event_id: str = "ce-1") -> None:
    """Apply `event` as the consumer runner does: caused by it, committed by the runner."""
    uow.cause = caused_by_event("/divert/assessment", event_id, LAPSED)
    async with uow:
        await handler(event, uow)
        await uow.commit()


async def request(uow, command: RequestWarrant) -> handlers.Outcome:
    uow.cause = WORKFLOW
    async with uow:
        outcome = await handlers.request_warrant(command, uow)
        await uow.commit()
    return outcome


class TestRequestWarrant:
    async def test_a_lapse_records_and_publishes_one_request(self, uow) -> None:
        outcome = await request(uow, lapse(uuid4()))
        assert outcome.created and outcome.request.status is WarrantRequestStatus.REQUESTED
        assert [type(event) for event in uow.published] == [WarrantRequested]
        assert uow.metadata == [WORKFLOW.metadata()]

    async def test_a_repeat_for_the_referral_returns_the_first_request(self, uow) -> None:
        referral_id = uuid4()
        first = await request(uow, lapse(referral_id))
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
            else handlers.when_case_assessment_completed_rescind_if_on_time
        )
        await react(uow, handler, fact(referral_id), event_id="the-fact")
        outcome = await request(uow, lapse(referral_id))
        assert outcome.request.status is WarrantRequestStatus.RESCINDED
        assert [type(event) for event in uow.published] == [WarrantRequested, WarrantRequestRescinded]
        assert uow.published[-1].reason == reason
        assert uow.metadata[-1] == {"actor": "/divert/warrants", "role": "service", "causation_id": "the-fact"}

    async def test_a_late_assessment_does_not_stop_the_request(self, uow) -> None:
        referral_id = uuid4()
        await react(uow, handlers.when_case_assessment_completed_rescind_if_on_time, assessment(referral_id, LAPSED))
        outcome = await request(uow, lapse(referral_id))
        assert outcome.request.status is WarrantRequestStatus.REQUESTED


class TestAcknowledgeRequest:
    async def test_the_prosecutor_acknowledges_once(self, uow) -> None:
        made = (await request(uow, lapse(uuid4()))).request
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
        made = (await request(uow, lapse(referral_id))).request
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id))
        async with uow:
            with pytest.raises(InvalidTransition):
                await handlers.acknowledge_request(AcknowledgeRequest(made.id, by="court", at=LAPSED), uow)


class TestNoWrongfulWarrant:
    async def test_an_on_time_assessment_rescinds_a_standing_request(self, uow) -> None:
        referral_id = uuid4()
        made = (await request(uow, lapse(referral_id))).request
        await react(uow, handlers.when_case_assessment_completed_rescind_if_on_time, assessment(referral_id, DUE))
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and stored.status is WarrantRequestStatus.RESCINDED
        assert uow.metadata[-1] == {"actor": "/divert/assessment", "role": "service", "causation_id": "ce-1"}

    async def test_a_withdrawal_flags_an_acknowledged_request_for_review(self, uow) -> None:
        referral_id = uuid4()
        made = (await request(uow, lapse(referral_id))).request
        async with uow:
            await handlers.acknowledge_request(AcknowledgeRequest(made.id, by="prosecutor", at=LAPSED), uow)
            await uow.commit()
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id))
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id), event_id="ce-2")
        stored = await uow.warrant_requests.get(made.id)
        assert stored is not None and (stored.status, stored.flagged) == (WarrantRequestStatus.ACKNOWLEDGED, True)
        assert [type(event) for event in uow.published][-1] is WarrantRequestFlagged
        assert sum(isinstance(event, WarrantRequestFlagged) for event in uow.published) == 1

    async def test_facts_keep_times_and_event_ids_only(self, uow) -> None:
        referral_id = uuid4()
        await react(uow, handlers.when_case_assessment_completed_rescind_if_on_time, assessment(referral_id, DUE))
        await react(uow, handlers.when_referral_withdrawn_rescind, withdrawal(referral_id), event_id="ce-2")
        facts = uow.referral_facts.facts[referral_id]
        assert vars(facts) == {
            "referral_id": referral_id,
            "assessment_completed_at": DUE,
            "assessment_event_id": "ce-1",
            "withdrawn_at": DUE,
            "withdrawal_event_id": "ce-2",
        }
        assert uow.published == []  # nothing to rescind yet
