"""Every intake handler on the fake unit of work: what it stores, what it publishes, what it refuses,
and whom it attributes changes to. The same behaviour on SQLite and PostgreSQL is the integration
tier's."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint

from divert_contracts import referrals as contract
from divert_contracts.milestones import CaseAssessedMilestone, CaseClosedMilestone, CaseEnrolledMilestone
from divert_contracts.referrals import Location, RmsReference, Subject
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.domain import events
from divert_intake.domain.commands import ExtendDeadline, RecordLapse, SubmitReferral, WithdrawReferral
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
    policy_for,
)
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause, caused_by_event

POLICIES = load_policy_book()
NOW = datetime(2026, 11, 30, 20, tzinfo=UTC)
OFFICER = Cause(actor="officer-7781", role="officer", agency="SPD")
MANAGER = Cause(actor="pm-king", role="program_manager")
WORKFLOW = Cause(actor="referral-deadline-workflow", role="service")


def submission(**changes) -> SubmitReferral:
    """An SPD officer's eligible King County arrest diversion, referred an hour before NOW."""
    command = SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=NOW - timedelta(hours=1),
        rms=RmsReference(agency="SPD", case_number=uuid4().hex[:8], officer_id="7781"),
        subject=Subject(given_name="Jordan", family_name="Doe", date_of_birth=datetime(1988, 4, 2).date()),
        location=Location(precinct="West"),
        offense=Offense(category="drug_possession", drug_quantity_grams=1.2, drug_type="opioid"),
        screening=Screening(
            amenable=True,
            dealing_for_profit=False,
            exploits_minors=False,
            promotes_prostitution=False,
            on_state_probation=False,
            in_treatment_court=False,
            no_contact_order_with_participant=False,
        ),
        contact_drivers=("drug_use",),
        at=NOW,
    )
    return replace(command, **changes)


def arrange(uow, **changes) -> Referral:
    """A referral already stored (no events published, nothing attributed)."""
    command = submission(**changes)
    return uow.referrals.add(Referral.submit(command, policy_for(command, POLICIES)))


async def run(uow, cause: Cause, handler, message):
    """Run a command handler as its entrypoint does: attributed to `cause`, then committed."""
    uow.cause = cause
    async with uow:
        result = await handler(message, uow)
        await uow.commit()
    return result


async def react(uow, handler, event, event_id: str = "ce-1", **bound) -> None:
    """Apply `event` as the consumer runner does: caused by it, committed by the runner."""
    uow.cause = caused_by_event("/divert/other", event_id, NOW)
    async with uow:
        await handler(event, uow, **bound)
        await uow.commit()


def submit(uow, command: SubmitReferral):
    return run(uow, OFFICER, handlers.submit_referral, command)


async def stored(uow, referral_id: UUID) -> Referral:
    referral = await uow.referrals.get(referral_id)
    assert referral is not None
    return referral


class TestSubmitReferral:
    async def test_an_eligible_arrest_diversion_is_accepted_published_and_attributed_to_the_officer(self, uow) -> None:
        command = submission()
        result = await submit(uow, command)
        assert result.referral.status is ReferralStatus.ACCEPTED
        assert (result.policy.id, result.policy.version) == ("king-county", "2026-01-01")
        [published] = uow.published
        assert isinstance(published, contract.ReferralAccepted) and published.referral_id == command.referral_id
        assert published.assessment_due_by == result.referral.assessment_due_by is not None
        assert uow.metadata == [OFFICER.metadata()]
        assert (await stored(uow, command.referral_id)).version == 1

    async def test_an_ineligible_referral_is_declined_with_its_reasons_and_no_subject(self, uow) -> None:
        command = submission(offense=Offense(category="drug_possession", drug_quantity_grams=5, drug_type="opioid"))
        result = await submit(uow, command)
        assert result.referral.status is ReferralStatus.DECLINED
        [published] = uow.published
        assert isinstance(published, contract.ReferralDeclined)
        assert [r.code for r in published.reasons] == ["drug_quantity_over_limit"]
        assert "subject" not in published.model_dump()

    async def test_screening_reasons_are_told_once_and_kept_as_one_screening_reason(self, uow) -> None:
        screening = submission().screening.model_copy(
            update={"on_state_probation": True, "disqualifying_convictions": ("robbery 2019",), "amenable": False}
        )
        offense = Offense(category="drug_possession", drug_quantity_grams=7, drug_type="opioid")
        command = submission(jurisdiction="santa-fe", screening=screening, offense=offense)
        result = await submit(uow, command)

        told = result.referral.decision_told
        assert told is not None and [r.code for r in told.reasons] == [
            "drug_quantity_over_limit",
            "not_amenable",
            "disqualifying_conviction",
            "on_state_probation",
        ]
        kept = [("drug_quantity_over_limit", "More than 6 g of drugs."), ("screening", SCREENING_REASON.message)]
        [published] = uow.published
        assert isinstance(published, contract.ReferralDeclined)
        assert [(r.code, r.message) for r in published.reasons] == kept
        assert (published.policy, published.policy_version) == ("santa-fe", "2026-01-01")
        [recorded] = uow.referrals.streams[command.referral_id]
        assert isinstance(recorded, events.ReferralDeclined)
        assert [(r.code, r.message) for r in recorded.reasons] == kept
        for decision in (result.referral.decision, (await stored(uow, command.referral_id)).decision):
            assert decision is not None and [(r.code, r.message) for r in decision.reasons] == kept
        reloaded = await stored(uow, command.referral_id)
        assert reloaded.decision_told is None  # never stored, so never read back
        everything_kept = repr([recorded.model_dump(), published.model_dump()])
        for reason in told.reasons[1:]:
            assert reason.code not in everything_kept and reason.message not in everything_kept

    async def test_the_policy_in_force_on_the_referral_date_decides(self, uow) -> None:
        result = await submit(uow, submission(referred_at=datetime(2025, 6, 1, 12, tzinfo=UTC)))
        assert result.policy.version == "2025-01-01"
        assert result.referral.decision is not None and result.referral.decision.policy_version == "2025-01-01"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"jurisdiction": "atlantis"}, "jurisdiction"),
            ({"referred_at": datetime(2024, 12, 31, 20, tzinfo=UTC)}, "referred_at"),  # before any policy
            ({"pathway": "community"}, "pathway"),  # King County takes no community referrals
            ({"offense": None}, "offense"),
            (
                {"jurisdiction": "santa-fe", "subject": Subject(given_name="A", family_name="B")},
                "subject.date_of_birth",
            ),
            ({"referred_at": NOW + timedelta(minutes=1)}, "referred_at"),  # in the future
            # a missing quantity never passes as under King County's 3 g limit
            ({"offense": Offense(category="drug_possession", drug_type="opioid")}, "offense.drug_quantity_grams"),
            (
                {"offense": Offense(category="drug_delivery_subsistence", drug_type="prescription_opioid_pills")},
                "offense.drug_quantity_grams",  # King County exempts no drug type from its limit
            ),
        ],
    )
    async def test_a_referral_no_policy_can_judge_is_refused_naming_the_field(self, uow, changes, field) -> None:
        with pytest.raises(InvalidReferral) as refused:
            await submit(uow, submission(**changes))
        assert refused.value.field == field
        assert uow.published == [] and uow.referrals.streams == {}

    async def test_pills_a_policy_exempts_from_its_limit_need_no_quantity(self, uow) -> None:
        pills = Offense(category="drug_possession", drug_type="prescription_opioid_pills")

        result = await submit(uow, submission(jurisdiction="santa-fe", offense=pills))

        assert result.referral.status is ReferralStatus.ACCEPTED


class TestWithdrawReferral:
    async def test_a_withdrawal_is_recorded_published_and_attributed(self, uow) -> None:
        referral = arrange(uow)
        command = WithdrawReferral(referral.id, "officer error", at=NOW)
        await run(uow, MANAGER, handlers.withdraw_referral, command)
        assert (await stored(uow, referral.id)).status is ReferralStatus.WITHDRAWN
        [published] = uow.published
        assert isinstance(published, contract.ReferralWithdrawn)
        assert (published.reason, published.withdrawn_at) == ("officer error", NOW)
        assert uow.metadata == [MANAGER.metadata()]

    async def test_a_second_withdrawal_and_a_declined_referral_are_refused(self, uow) -> None:
        referral = arrange(uow)
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(referral.id, "error", at=NOW))
        with pytest.raises(InvalidTransition) as again:
            await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(referral.id, "error", at=NOW))
        assert again.value.current is ReferralStatus.WITHDRAWN
        declined = arrange(uow, screening=submission().screening.model_copy(update={"amenable": False}))
        with pytest.raises(InvalidTransition):
            await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(declined.id, "error", at=NOW))
        assert len(uow.published) == 1

    async def test_an_unknown_referral_is_not_found(self, uow) -> None:
        with pytest.raises(handlers.ReferralNotFound):
            await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(uuid4(), "error", at=NOW))


class TestExtendDeadline:
    async def test_an_extension_moves_the_due_time_and_publishes_both_times(self, uow) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        later = referral.assessment_due_by + timedelta(days=14)
        await run(uow, MANAGER, handlers.extend_deadline, ExtendDeadline(referral.id, later, "in hospital", at=NOW))
        assert (await stored(uow, referral.id)).assessment_due_by == later
        [published] = uow.published
        assert isinstance(published, contract.ReferralDeadlineExtended)
        assert (published.previous_due_by, published.assessment_due_by) == (referral.assessment_due_by, later)
        assert uow.metadata == [MANAGER.metadata()]

    async def test_an_earlier_due_time_is_refused(self, uow) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        earlier = ExtendDeadline(referral.id, referral.assessment_due_by - timedelta(days=1), "oops", at=NOW)
        with pytest.raises(InvalidReferral) as refused:
            await run(uow, MANAGER, handlers.extend_deadline, earlier)
        assert refused.value.field == "assessment_due_by" and uow.published == []

    async def test_a_referral_without_a_pending_deadline_is_refused(self, uow) -> None:
        social = arrange(uow, pathway="social_contact", screening=_with_recent_involvement())
        with pytest.raises(InvalidTransition):
            await run(
                uow, MANAGER, handlers.extend_deadline, ExtendDeadline(social.id, NOW + timedelta(days=9), "x", at=NOW)
            )
        with pytest.raises(handlers.ReferralNotFound):
            await run(
                uow, MANAGER, handlers.extend_deadline, ExtendDeadline(uuid4(), NOW + timedelta(days=9), "x", at=NOW)
            )


class TestRecordLapse:
    async def test_a_lapse_is_recorded_and_published_once_attributed_to_the_workflow(self, uow) -> None:
        referral = arrange(uow)
        lapse = lapse_of(referral)
        for _ in range(2):  # the activity is retried: nothing more is recorded
            await run(uow, WORKFLOW, handlers.record_lapse, lapse)
        assert (await stored(uow, referral.id)).status is ReferralStatus.LAPSED
        [published] = uow.published
        assert isinstance(published, contract.ReferralAssessmentDeadlineLapsed)
        assert published.lapsed_at == lapse.lapsed_at and published.lapse_action == "warrant_request"
        assert published.assessment_due_by == referral.assessment_due_by
        assert uow.metadata == [WORKFLOW.metadata()]

    async def test_the_handler_leaves_the_commit_to_its_caller(self, uow) -> None:
        referral = arrange(uow)
        uow.cause = WORKFLOW
        async with uow:
            await handlers.record_lapse(lapse_of(referral), uow)
        assert (uow.commits, uow.published) == (0, [])

    async def test_a_lapse_the_record_contradicts_is_refused_and_records_nothing(self, uow) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        before_due = replace(lapse_of(referral), at=referral.assessment_due_by - timedelta(seconds=1))
        other_due = replace(lapse_of(referral), assessment_due_by=NOW)
        unknown = replace(lapse_of(referral), referral_id=uuid4())
        reasons = []
        for command in (before_due, other_due, unknown):
            with pytest.raises(LapseRefused) as refused:
                await run(uow, WORKFLOW, handlers.record_lapse, command)
            reasons.append(refused.value.reason)
        assert reasons == [LapseRefusal.NOT_YET_DUE, LapseRefusal.DUE_TIME_MISMATCH, LapseRefusal.UNKNOWN_REFERRAL]
        assert (await stored(uow, referral.id)).status is ReferralStatus.ACCEPTED
        assert (uow.commits, uow.published) == (0, [])


class TestLapseToReport:
    async def test_the_recorded_lapse_is_reported_with_the_records_facts(self, uow) -> None:
        referral = arrange(uow)
        lapse = lapse_of(referral)
        await run(uow, WORKFLOW, handlers.record_lapse, lapse)
        reported = await run(uow, WORKFLOW, handlers.lapse_to_report, referral.id)
        assert reported == handlers.RecordedLapse(
            referral_id=referral.id,
            jurisdiction="king-county",
            lapse_action="warrant_request",
            assessment_due_by=lapse.assessment_due_by,
            lapsed_at=lapse.lapsed_at,
        )

    async def test_nothing_is_reported_before_the_lapse_is_recorded_or_once_it_is_settled(self, uow) -> None:
        pending, withdrawn = arrange(uow), arrange(uow)
        await run(uow, WORKFLOW, handlers.record_lapse, lapse_of(withdrawn))
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(withdrawn.id, "error", at=NOW))
        for referral in (pending, withdrawn):
            assert await run(uow, WORKFLOW, handlers.lapse_to_report, referral.id) is None
        with pytest.raises(handlers.ReferralNotFound):
            await run(uow, WORKFLOW, handlers.lapse_to_report, uuid4())


class TestWarrantStillDue:
    async def test_due_unless_intake_knows_of_a_withdrawal_or_an_on_time_assessment(self, uow) -> None:
        pending, withdrawn, on_time, late = (arrange(uow) for _ in range(4))
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(withdrawn.id, "error", at=NOW))
        for referral, completed_at in ((on_time, NOW), (late, NOW + timedelta(days=40))):
            await react(
                uow,
                handlers.when_case_assessed_stop_deadline,
                assessment(referral.id, completed_at),
                clock=_NoClock(),
            )
        answers = [
            await run(uow, WORKFLOW, handlers.warrant_still_due, r.id) for r in (pending, withdrawn, on_time, late)
        ]
        assert answers == [True, False, False, True]

    async def test_an_unknown_referral_is_not_found(self, uow) -> None:
        with pytest.raises(handlers.ReferralNotFound):
            await run(uow, WORKFLOW, handlers.warrant_still_due, uuid4())


class TestStartingTheClock:
    """`referral.accepted` → the clock starts from intake's record (a consumer effect: it opens
    only a short unit of work of its own to read the referral, and commits nothing)."""

    async def start(self, uow, clock, event, cause=None) -> None:
        await handlers.when_referral_accepted_start_deadline(
            event, cause or caused_by_event("/divert/intake", "1", None), clock=clock, unit_of_work=lambda: uow
        )

    async def test_an_arrest_diversion_starts_its_clock_with_the_due_time_of_the_record(self, uow, clock) -> None:
        referral = arrange(uow)
        await self.start(uow, clock, accepted_event(referral))
        [(call, deadline, _)] = clock.calls
        assert call == "start" and deadline.assessment_due_by == referral.assessment_due_by
        assert (deadline.referral_id, deadline.lapse_action) == (str(referral.id), "warrant_request")
        assert (uow.commits, uow.metadata) == (0, [])

    async def test_the_due_time_in_force_counts_not_the_events(self, uow, clock) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        later = referral.assessment_due_by + timedelta(days=7)
        await run(uow, MANAGER, handlers.extend_deadline, ExtendDeadline(referral.id, later, "x", at=NOW))
        await self.start(uow, clock, accepted_event(referral))
        assert [deadline.assessment_due_by for _, deadline, _ in clock.calls] == [later]

    async def test_a_replayed_event_never_revives_a_settled_clock(self, uow, clock) -> None:
        lapsed, assessed, withdrawn = arrange(uow), arrange(uow), arrange(uow)
        await run(uow, WORKFLOW, handlers.record_lapse, lapse_of(lapsed))
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(assessed.id, NOW), clock=_NoClock())
        await run(uow, OFFICER, handlers.withdraw_referral, WithdrawReferral(withdrawn.id, "error", at=NOW))
        for referral in (lapsed, assessed, withdrawn):
            await self.start(uow, clock, accepted_event(referral))
        unknown = accepted_event(arrange(uow), referral_id=uuid4())  # intake has no such referral
        await self.start(uow, clock, unknown)
        assert clock.calls == []

    async def test_social_contact_and_community_referrals_never_start_a_clock(self, uow, clock) -> None:
        social = arrange(uow, pathway="social_contact", screening=_with_recent_involvement())
        await self.start(uow, clock, accepted_event(social))
        await self.start(uow, clock, accepted("community", None))
        assert clock.calls == []

    async def test_the_start_latency_is_measured_from_the_events_own_time(self, uow, clock, metric_reader) -> None:
        referral = arrange(uow, jurisdiction="king-county")
        event = accepted_event(referral, jurisdiction="latency-test")
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        await self.start(uow, clock, event, caused_by_event("/divert/intake", "1", None))
        assert _latency(metric_reader, "latency-test") == (0, 0.0)  # no event time, nothing measured
        await self.start(uow, clock, event, caused_by_event("/divert/intake", "2", an_hour_ago))
        count, seconds = _latency(metric_reader, "latency-test")
        assert count == 1 and 3600 <= seconds < 3660


class TestReactionsToAssessment:
    async def test_an_on_time_assessment_is_recorded_and_stops_the_clock(self, uow, clock) -> None:
        referral = arrange(uow)
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(referral.id, NOW), clock=clock)
        assert (await stored(uow, referral.id)).assessed_on_time
        [(call, deadline, completed_at)] = clock.calls
        assert (call, deadline.referral_id, completed_at) == ("assessed", str(referral.id), NOW)
        assert uow.published == []  # the assessment is assessment's fact, published there
        assert uow.metadata == [{"actor": "/divert/other", "role": "service", "causation_id": "ce-1"}]

    async def test_on_time_is_judged_by_intakes_due_time_not_the_milestones(self, uow, clock) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        late = referral.assessment_due_by + timedelta(minutes=1)
        claims_on_time = assessment(referral.id, late).model_copy(update={"on_time": True})
        await react(uow, handlers.when_case_assessed_stop_deadline, claims_on_time, clock=clock)
        assert not (await stored(uow, referral.id)).assessed_on_time

    async def test_the_clock_is_told_the_due_time_in_force(self, uow, clock) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        later = referral.assessment_due_by + timedelta(days=7)
        await run(uow, MANAGER, handlers.extend_deadline, ExtendDeadline(referral.id, later, "x", at=NOW))
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(referral.id, NOW), clock=clock)
        assert clock.calls[0][1].assessment_due_by == later

    async def test_a_settled_clock_is_not_told_again(self, uow, clock) -> None:
        lapsed, assessed = arrange(uow), arrange(uow)
        assert lapsed.assessment_due_by is not None
        await run(uow, WORKFLOW, handlers.record_lapse, lapse_of(lapsed))
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(assessed.id, NOW), clock=clock)
        clock.calls.clear()
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(assessed.id, NOW), "ce-2", clock=clock)
        on_time_after_all = assessment(lapsed.id, lapsed.assessment_due_by - timedelta(hours=1))
        await react(uow, handlers.when_case_assessed_stop_deadline, on_time_after_all, "ce-3", clock=clock)
        assert (await stored(uow, lapsed.id)).assessed_on_time  # recorded: warrants rescinds on the same news
        assert clock.calls == []

    async def test_a_referral_intake_never_accepted_changes_nothing(self, uow, clock) -> None:
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(uuid4(), NOW), clock=clock)
        assert (clock.calls, uow.referrals.streams) == ([], {})

    async def test_a_social_contact_is_recorded_but_has_no_clock(self, uow, clock) -> None:
        social = arrange(uow, pathway="social_contact", screening=_with_recent_involvement())
        await react(uow, handlers.when_case_assessed_stop_deadline, assessment(social.id, NOW), clock=clock)
        assert (await stored(uow, social.id)).status is ReferralStatus.ASSESSED and clock.calls == []


class TestReactionsToWithdrawalAndExtension:
    async def test_a_withdrawal_stops_the_clock_and_stores_nothing(self, uow, clock) -> None:
        referral = arrange(uow)
        event = contract.ReferralWithdrawn(
            referral_id=referral.id, jurisdiction="king-county", withdrawn_at=NOW, reason="x"
        )
        await react(uow, handlers.when_referral_withdrawn_stop_deadline, event, clock=clock)
        [(call, deadline, withdrawn_at)] = clock.calls
        assert (call, deadline.referral_id, withdrawn_at) == ("withdrawn", str(referral.id), NOW)
        assert uow.metadata == []

    async def test_an_extension_moves_the_clock(self, uow, clock) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        later = referral.assessment_due_by + timedelta(days=3)
        await run(uow, MANAGER, handlers.extend_deadline, ExtendDeadline(referral.id, later, "x", at=NOW))
        event = contract.ReferralDeadlineExtended(
            referral_id=referral.id,
            jurisdiction="king-county",
            previous_due_by=referral.assessment_due_by,
            assessment_due_by=later,
            reason="x",
            extended_at=NOW,
        )
        await react(uow, handlers.when_deadline_extended_move_deadline, event, clock=clock)
        assert [(call, when) for call, _, when in clock.calls] == [("extended", later)]

    async def test_an_extension_moves_the_clock_to_the_due_time_in_force_and_never_a_settled_one(
        self, uow, clock
    ) -> None:
        referral = arrange(uow)
        assert referral.assessment_due_by is not None
        first, second = (referral.assessment_due_by + timedelta(days=days) for days in (3, 7))
        for due in (first, second):
            await run(uow, MANAGER, handlers.extend_deadline, ExtendDeadline(referral.id, due, "x", at=NOW))
        events_ = [
            contract.ReferralDeadlineExtended(
                referral_id=referral.id,
                jurisdiction="king-county",
                previous_due_by=referral.assessment_due_by,
                assessment_due_by=due,
                reason="x",
                extended_at=NOW,
            )
            for due in (first, second)
        ]
        await react(uow, handlers.when_deadline_extended_move_deadline, events_[0], clock=clock)
        after = second + timedelta(seconds=1)
        await run(uow, WORKFLOW, handlers.record_lapse, RecordLapse(referral.id, second, lapsed_at=after, at=after))
        await react(uow, handlers.when_deadline_extended_move_deadline, events_[1], "ce-2", clock=clock)
        assert [(call, when) for call, _, when in clock.calls] == [("extended", second)]

    async def test_news_of_an_unknown_or_clockless_referral_reaches_no_clock(self, uow, clock) -> None:
        social = arrange(uow, pathway="social_contact", screening=_with_recent_involvement())
        for referral_id in (uuid4(), social.id):
            event = contract.ReferralWithdrawn(
                referral_id=referral_id, jurisdiction="king-county", withdrawn_at=NOW, reason="x"
            )
            await react(uow, handlers.when_referral_withdrawn_stop_deadline, event, clock=clock)
        assert clock.calls == []


class TestNotesForThePoliceView:
    async def test_a_warrant_request_and_its_rescission_are_noted_once_each(self, uow) -> None:
        referral, request_id = arrange(uow), uuid4()
        requested = WarrantRequested(
            warrant_request_id=request_id,
            referral_id=referral.id,
            jurisdiction="king-county",
            kind="warrant_request",
            assessment_due_by=NOW,
            lapsed_at=NOW,
            requested_at=NOW,
        )
        rescinded = WarrantRequestRescinded(
            warrant_request_id=request_id,
            referral_id=referral.id,
            jurisdiction="king-county",
            reason="assessed_before_deadline",
            rescinded_at=NOW,
        )
        await react(uow, handlers.when_warrant_requested_note_it, requested, event_id="w-1")
        await react(uow, handlers.when_warrant_requested_note_it, requested, event_id="w-1-again")
        assert (await stored(uow, referral.id)).warrant_requested
        await react(uow, handlers.when_warrant_request_rescinded_note_it, rescinded, event_id="w-2")
        assert not (await stored(uow, referral.id)).warrant_requested
        assert [type(e) for e in uow.referrals.streams[referral.id]][1:] == [
            events.WarrantRequestNoted,
            events.WarrantRescissionNoted,
        ]
        assert [m["causation_id"] for m in uow.metadata] == ["w-1", "w-2"] and uow.published == []

    async def test_an_enrollment_is_noted_once(self, uow) -> None:
        referral = arrange(uow)
        enrolled = CaseEnrolledMilestone(referral_id=referral.id, jurisdiction="king-county", enrolled_at=NOW)
        for event_id in ("e-1", "e-2"):
            await react(uow, handlers.when_participant_enrolled_note_it, enrolled, event_id=event_id)
        assert (await stored(uow, referral.id)).enrolled
        assert [m["causation_id"] for m in uow.metadata] == ["e-1"] and uow.published == []

    async def test_a_closure_is_noted_once(self, uow) -> None:
        referral = arrange(uow)
        closed = CaseClosedMilestone(referral_id=referral.id, jurisdiction="king-county", closed_at=NOW)
        assert not (await stored(uow, referral.id)).closed
        for event_id in ("c-1", "c-2"):
            await react(uow, handlers.when_case_closed_note_it, closed, event_id=event_id)
        assert (await stored(uow, referral.id)).closed
        assert [type(e) for e in uow.referrals.streams[referral.id]][1:] == [events.ClosureNoted]
        assert [m["causation_id"] for m in uow.metadata] == ["c-1"] and uow.published == []

    async def test_news_of_a_referral_intake_does_not_know_is_dropped(self, uow) -> None:
        enrolled = CaseEnrolledMilestone(referral_id=uuid4(), jurisdiction="king-county", enrolled_at=NOW)
        await react(uow, handlers.when_participant_enrolled_note_it, enrolled)
        assert uow.referrals.streams == {} and uow.metadata == []


class _NoClock:
    async def record_assessment(self, deadline, completed_at) -> None:
        pass


def _with_recent_involvement() -> Screening:
    return submission().screening.model_copy(
        update={"prior_involvement_documented_on": (NOW - timedelta(days=30)).date()}
    )


def assessment(referral_id: UUID, completed_at: datetime) -> CaseAssessedMilestone:
    return CaseAssessedMilestone(
        referral_id=referral_id, jurisdiction="king-county", completed_at=completed_at, on_time=True
    )


def lapse_of(referral: Referral) -> RecordLapse:
    """The lapse of the referral's window as its workflow reports it, a second after the due time."""
    assert referral.assessment_due_by is not None
    after = referral.assessment_due_by + timedelta(seconds=1)
    return RecordLapse(referral.id, referral.assessment_due_by, lapsed_at=after, at=after)


def accepted_event(referral: Referral, **changes) -> contract.ReferralAccepted:
    """The `referral.accepted` event of a stored referral, as the consumer reads it."""
    event = accepted("arrest_diversion", referral.assessment_due_by, jurisdiction=referral.jurisdiction)
    return event.model_copy(
        update={"referral_id": referral.id, "pathway": referral.pathway, "lapse_action": referral.lapse_action}
        | changes
    )


def accepted(pathway: str, due: datetime | None, jurisdiction: str = "king-county") -> contract.ReferralAccepted:
    return contract.ReferralAccepted(
        referral_id=uuid4(),
        jurisdiction=jurisdiction,
        pathway=pathway,
        referred_at=NOW,
        policy="king-county",
        policy_version="1",
        assessment_due_by=due,
        lapse_action="warrant_request" if due else None,
        rms=RmsReference(agency="SPD", case_number="1", officer_id="2"),
        subject=Subject(given_name="A", family_name="B"),
        location=Location(),
        offense_category=None,
    )


def _latency(reader, jurisdiction: str) -> tuple[int, float]:
    """Observations and their sum in `divert.deadline.start_latency` for `jurisdiction`."""
    count, total = 0, 0.0
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "divert.deadline.start_latency":
                    for point in metric.data.data_points:
                        if (
                            isinstance(point, HistogramDataPoint)
                            and point.attributes.get("jurisdiction") == jurisdiction
                        ):
                            count, total = count + point.count, total + point.sum
    return count, total
