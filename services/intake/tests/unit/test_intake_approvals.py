"""Approval gates on in-memory storage: a referral under a gated policy waits for its approver or
its timer, and every way out of the wait (approve, deny, override, timeout, withdrawal) is checked."""

import tomllib
from dataclasses import replace
from datetime import timedelta
from importlib import resources

import pytest
from pydantic import ValidationError

from divert_contracts import referrals as contract
from divert_intake.domain import events
from divert_intake.domain.approvals import APPROVAL_DENIED, APPROVAL_TIMED_OUT, approval_problem
from divert_intake.domain.commands import ApplyApprovalTimeout, DecideApproval, WithdrawReferral
from divert_intake.domain.deadlines import assessment_due_by
from divert_intake.domain.facts import Offense
from divert_intake.domain.policy import ApprovalRule, JurisdictionPolicy, PolicyBook, load_policy_book
from divert_intake.domain.referral import ApprovalForbidden, InvalidReferral, InvalidTransition, ReferralStatus
from divert_intake.service_layer import handlers
from divert_intake.service_layer.status_callbacks import status_change
from divert_platform.cause import Cause

from .test_intake_handlers import NOW, OFFICER, run, stored, submission

PROSECUTOR = Cause(actor="dda-ortiz", role="prosecutor")
TIMER = Cause(actor="referral-approval-workflow", role="service")
WITHIN = timedelta(days=2)


def gated(on_timeout: str = "accept", by: str = "prosecutor") -> PolicyBook:
    """The shipped policies, King County's current version gated: `by` decides within two days."""
    shipped = load_policy_book()
    versions = [p for j in shipped.ids() for p in shipped.versions(j)]
    rule = ApprovalRule(by=by, within=WITHIN, on_timeout=on_timeout)
    return PolicyBook([p.model_copy(update={"approval": rule}) if p.id == "king-county" else p for p in versions])


@pytest.fixture
def book(uow) -> PolicyBook:
    uow.policies = gated()
    return uow.policies


async def waiting(uow, **changes):
    """Submit an SPD arrest diversion under the gated policy; the referral as submitted."""
    return (await run(uow, OFFICER, handlers.submit_referral, submission(**changes))).referral


def decide(referral, outcome="approve", reason="meets_criteria", role="prosecutor", at=NOW) -> DecideApproval:
    return DecideApproval(referral.id, outcome, reason, role, at=at)


class TestThePolicy:
    def test_a_toml_approval_section_is_read_and_bounded(self) -> None:
        demo = tomllib.loads((resources.files("divert_intake.policies") / "demo.toml").read_text("utf-8"))
        policy = JurisdictionPolicy.model_validate(
            demo | {"approval": {"by": "program_manager", "within": "P2D", "on_timeout": "decline"}}
        )
        assert policy.approval == ApprovalRule(by="program_manager", within=timedelta(days=2), on_timeout="decline")
        for wrong in ({"within": "P31D"}, {"within": "PT0S"}, {"by": "court"}, {"on_timeout": "wait"}):
            with pytest.raises(ValidationError):
                JurisdictionPolicy.model_validate(
                    demo | {"approval": {"by": "prosecutor", "within": "P2D", "on_timeout": "accept"} | wrong}
                )

    def test_the_shipped_gates_are_king_countys_and_santa_fes_from_december_6(self) -> None:
        shipped = load_policy_book()
        gated = [(p.id, p.version, p.approval.by) for j in shipped.ids() for p in shipped.versions(j) if p.approval]
        assert gated == [("king-county", "2026-12-06", "program_manager"), ("santa-fe", "2026-12-06", "prosecutor")]


class TestSubmission:
    async def test_a_gated_referral_waits_with_the_rules_decision_as_its_recommendation(self, uow, book) -> None:
        referral = await waiting(uow)
        assert referral.status is ReferralStatus.PENDING_APPROVAL
        assert referral.assessment_due_by is None and referral.approval is not None
        assert (referral.approval.recommended, referral.approval.approver) == (True, "prosecutor")
        assert referral.approval.decide_by == NOW + WITHIN
        [published] = uow.published
        assert isinstance(published, contract.ReferralApprovalRequested)
        assert published.decide_by == NOW + WITHIN and "subject" not in published.model_dump()

    async def test_the_persons_details_wait_beside_the_event_store_and_go_at_the_decision(self, uow, book) -> None:
        referral = await waiting(uow)
        [requested] = uow.referrals.streams[referral.id]
        assert "Doe" not in requested.model_dump_json()
        assert uow.held_contacts.rows[referral.id].subject.family_name == "Doe"
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, "deny", "public_safety"))
        assert referral.id not in uow.held_contacts.rows
        assert all("Doe" not in event.model_dump_json() for event in uow.referrals.streams[referral.id])

    async def test_a_withdrawal_at_the_gate_lets_the_details_go(self, uow, book) -> None:
        referral = await waiting(uow)
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(referral.id, "officer error", NOW))
        assert uow.held_contacts.rows == {}

    async def test_a_referral_the_rules_decline_waits_too_with_its_kept_reasons(self, uow, book) -> None:
        over = Offense(category="drug_possession", drug_quantity_grams=5, drug_type="opioid")
        referral = await waiting(uow, offense=over)
        assert referral.status is ReferralStatus.PENDING_APPROVAL
        assert referral.approval is not None and not referral.approval.recommended
        assert [r.code for r in referral.approval.reasons] == ["drug_quantity_over_limit"]


class TestTheApprover:
    async def test_an_approval_accepts_and_starts_the_assessment_window_then(self, uow, book) -> None:
        referral = await waiting(uow)
        later = NOW + timedelta(hours=30)
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, at=later))
        accepted = await stored(uow, referral.id)
        assert accepted.status is ReferralStatus.ACCEPTED
        assert accepted.assessment_due_by == assessment_due_by(book.latest("king-county"), later)
        decided = [e for e in uow.referrals.streams[referral.id] if isinstance(e, events.ApprovalDecided)]
        assert [(d.decided_by, d.role, d.reason_code, d.overrides_decline) for d in decided] == [
            ("dda-ortiz", "prosecutor", "meets_criteria", False)
        ]
        assert isinstance(uow.published[-1], contract.ReferralAccepted)
        assert uow.published[-1].subject.family_name == "Doe"  # the case agency gets what it needs to reach them

    async def test_a_denial_declines_saying_only_that_the_approver_declined(self, uow, book) -> None:
        referral = await waiting(uow)
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, "deny", "victim_objection"))
        declined = uow.published[-1]
        assert isinstance(declined, contract.ReferralDeclined)
        assert [r.code for r in declined.reasons] == [APPROVAL_DENIED]
        assert "victim_objection" not in declined.model_dump_json()

    async def test_overriding_a_recommended_decline_needs_a_reason_other_than_meeting_the_criteria(
        self, uow, book
    ) -> None:
        referral = await waiting(uow, offense=Offense(category="drug_possession", drug_quantity_grams=5, drug_type="x"))
        with pytest.raises(InvalidReferral) as refused:
            await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral))
        assert refused.value.field == "reason_code"
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, reason="prosecutorial_discretion"))
        [decided] = [e for e in uow.referrals.streams[referral.id] if isinstance(e, events.ApprovalDecided)]
        assert decided.overrides_decline and decided.decided_by == "dda-ortiz"
        assert (await stored(uow, referral.id)).status is ReferralStatus.ACCEPTED

    async def test_only_the_policys_approver_decides_and_only_once(self, uow, book) -> None:
        referral = await waiting(uow)
        with pytest.raises(ApprovalForbidden):
            await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, role="program_manager"))
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral))
        with pytest.raises(InvalidTransition) as again:
            await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, "deny", "public_safety"))
        assert again.value.current is ReferralStatus.ACCEPTED

    async def test_a_withdrawn_referral_can_no_longer_be_decided(self, uow, book) -> None:
        referral = await waiting(uow)
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(referral.id, "officer error", NOW))
        with pytest.raises(InvalidTransition):
            await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral))
        assert not await run(
            uow, TIMER, handlers.apply_approval_timeout, ApplyApprovalTimeout(referral.id, NOW + WITHIN)
        )


class TestTheTimer:
    @pytest.mark.parametrize(
        ("on_timeout", "oversize", "status", "codes"),
        [
            ("accept", False, ReferralStatus.ACCEPTED, None),
            ("decline", False, ReferralStatus.DECLINED, [APPROVAL_TIMED_OUT]),
            ("accept", True, ReferralStatus.DECLINED, ["drug_quantity_over_limit", APPROVAL_TIMED_OUT]),
        ],
        ids=["eligible-accepted", "eligible-declined-by-rule", "never-overrides-the-rules"],
    )
    async def test_nobody_deciding_in_time_follows_the_policys_rule(self, uow, on_timeout, oversize, status, codes):
        uow.policies = gated(on_timeout)
        changes = (
            {"offense": Offense(category="drug_possession", drug_quantity_grams=5, drug_type="x")} if oversize else {}
        )
        referral = await waiting(uow, **changes)
        early = ApplyApprovalTimeout(referral.id, NOW + WITHIN - timedelta(seconds=1))
        assert not await run(uow, TIMER, handlers.apply_approval_timeout, early)
        assert await handlers.approval_due(referral.id, uow) == NOW + WITHIN
        on_time = ApplyApprovalTimeout(referral.id, NOW + WITHIN)
        assert await run(uow, TIMER, handlers.apply_approval_timeout, on_time)
        decided = await stored(uow, referral.id)
        assert decided.status is status
        if codes is not None:
            assert [r.code for r in uow.published[-1].reasons] == codes
        assert await handlers.approval_due(referral.id, uow) is None
        assert not await run(uow, TIMER, handlers.apply_approval_timeout, on_time)  # a repeat decides nothing

    async def test_a_decision_before_the_time_leaves_the_timer_nothing_to_do(self, uow, book) -> None:
        referral = await waiting(uow)
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, "deny", "pending_charges"))
        assert not await run(
            uow, TIMER, handlers.apply_approval_timeout, ApplyApprovalTimeout(referral.id, NOW + WITHIN)
        )
        assert sum(isinstance(e, events.ApprovalDecided) for e in uow.referrals.streams[referral.id]) == 1

    async def test_the_timer_of_an_unknown_referral_decides_nothing(self, uow, book) -> None:
        unknown = replace(submission(), at=NOW).referral_id
        assert not await run(uow, TIMER, handlers.apply_approval_timeout, ApplyApprovalTimeout(unknown, NOW + WITHIN))

    async def test_the_consumer_starts_a_timer_only_for_a_referral_still_waiting(self, uow, book) -> None:
        referral = await waiting(uow)
        [event] = uow.published
        timer = _RecordingTimer()
        start = handlers.when_approval_requested_start_timer
        await start(event, OFFICER, timer=timer, unit_of_work=lambda: uow)
        assert timer.started == [(str(referral.id), NOW + WITHIN)]
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral))
        await start(event, OFFICER, timer=timer, unit_of_work=lambda: uow)  # a re-read after the decision
        assert len(timer.started) == 1


class TestWhatPartnersAreTold:
    async def test_the_wait_is_a_status_callback_with_no_person_in_it(self, uow, book) -> None:
        referral = await waiting(uow)
        [requested] = uow.referrals.streams[referral.id]
        view = {"jurisdiction": "king-county", "agency": "SPD", "case_number": "x", "pathway": "arrest_diversion"}
        change = status_change(requested, 1, view | {"status": "pending_approval"})
        assert change is not None and change.event_type == "referral.pending_approval"
        assert change.data["approver"] == "prosecutor" and "Doe" not in str(change.data)

    async def test_an_acceptance_after_the_wait_is_dated_by_its_approval(self, uow, book) -> None:
        referral = await waiting(uow)
        later = NOW + timedelta(hours=5)
        await run(uow, PROSECUTOR, handlers.decide_approval, decide(referral, at=later))
        accepted = uow.referrals.streams[referral.id][-1]
        assert isinstance(accepted, events.ReferralAccepted) and accepted.approved_at == later
        view = {"jurisdiction": "king-county", "agency": "SPD", "case_number": "x", "pathway": "arrest_diversion"}
        change = status_change(accepted, 3, view | {"status": "accepted"})
        assert change is not None and change.occurred_at == later


def test_reason_codes_justify_only_their_own_outcome() -> None:
    assert approval_problem("approve", "meets_criteria", recommended=True) is None
    assert approval_problem("deny", "public_safety", recommended=True) is None
    assert approval_problem("approve", "public_safety", recommended=True) is not None
    assert approval_problem("deny", "meets_criteria", recommended=False) is not None
    assert approval_problem("approve", "meets_criteria", recommended=False) is not None
    assert approval_problem("approve", "program_discretion", recommended=False) is None


class _RecordingTimer:
    def __init__(self) -> None:
        self.started: list[tuple[str, object]] = []

    async def start(self, referral_id: str, decide_by) -> None:
        self.started.append((referral_id, decide_by))
