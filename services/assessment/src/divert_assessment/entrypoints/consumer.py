"""`divert-assessment consumer`: opens a case for every accepted referral on `divert.referrals`."""

import asyncio
from functools import partial

from divert_assessment.bootstrap import bootstrap
from divert_assessment.service_layer import handlers
from divert_contracts.referrals import ReferralAccepted
from divert_contracts.topics import REFERRALS
from divert_platform.roles import run_consumer

GROUP_ID = "divert-assessment"


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-assessment` group until `stop` is set."""
    assessment = bootstrap()
    try:
        await run_consumer(
            assessment.settings,
            topics=[REFERRALS],
            handlers={
                ReferralAccepted: partial(
                    handlers.when_referral_accepted_open_case, case_agencies=assessment.settings.case_agencies
                )
            },
            unit_of_work=assessment.unit_of_work,
            stop=stop,
            group_id=GROUP_ID,
        )
    finally:
        await assessment.engine.dispose()
