"""`divert-intake consumer`: runs the deadline clocks from events (accepted → start; withdrawn,
extended, assessed → signal) and notes warrant requests for the police status view."""

import asyncio
from functools import partial

from divert_contracts.cases import CaseAssessmentCompleted, CaseParticipantEnrolled
from divert_contracts.referrals import ReferralAccepted, ReferralDeadlineExtended, ReferralWithdrawn
from divert_contracts.topics import CASES, REFERRALS, WARRANTS
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import bootstrap, connect_temporal
from divert_intake.service_layer import handlers
from divert_platform.roles import run_consumer


async def main(stop: asyncio.Event) -> None:
    intake = bootstrap()
    clock = TemporalDeadlineClock(await connect_temporal(intake.settings))
    try:
        await run_consumer(
            intake.settings,
            topics=[REFERRALS, CASES, WARRANTS],
            # Started outside any transaction: intake's database is not locked while Temporal answers.
            effects={ReferralAccepted: partial(handlers.when_referral_accepted_start_deadline, clock=clock)},
            handlers={
                ReferralWithdrawn: partial(handlers.when_referral_withdrawn_stop_deadline, clock=clock),
                ReferralDeadlineExtended: partial(handlers.when_deadline_extended_move_deadline, clock=clock),
                CaseAssessmentCompleted: partial(handlers.when_case_assessment_completed_stop_deadline, clock=clock),
                CaseParticipantEnrolled: handlers.when_participant_enrolled_note_it,
                WarrantRequested: handlers.when_warrant_requested_note_it,
                WarrantRequestRescinded: handlers.when_warrant_request_rescinded_note_it,
            },
            unit_of_work=intake.unit_of_work,
            stop=stop,
        )
    finally:
        await intake.engine.dispose()
