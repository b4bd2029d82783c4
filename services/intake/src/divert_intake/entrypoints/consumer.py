"""`divert-intake consumer`: starts deadline clocks for accepted arrest diversions and stops them
when the case agency completes the assessment."""

import asyncio
from functools import partial

from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.referrals import ReferralAccepted
from divert_contracts.topics import CASES, REFERRALS
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
            topics=[REFERRALS, CASES],
            handlers={
                ReferralAccepted: partial(handlers.when_referral_accepted_start_deadline, clock=clock),
                CaseAssessmentCompleted: partial(handlers.when_case_assessment_completed_stop_deadline, clock=clock),
            },
            unit_of_work=intake.unit_of_work,
            stop=stop,
        )
    finally:
        await intake.engine.dispose()
