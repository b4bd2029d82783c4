"""`divert-warrants consumer`: no wrongful warrant. An assessment completed on time or a
withdrawal, arriving before or after the lapse, rescinds the referral's request (or flags it
for review when the prosecutor or court already acknowledged it)."""

import asyncio

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.referrals import ReferralWithdrawn
from divert_contracts.topics import CASES, REFERRALS
from divert_platform.consumer import Handler
from divert_platform.roles import run_consumer
from divert_warrants.bootstrap import bootstrap
from divert_warrants.service_layer import handlers

GROUP_ID = "divert-warrants"
TOPICS = (CASES, REFERRALS)
HANDLERS: dict[type[IntegrationEvent], Handler] = {
    CaseAssessmentCompleted: handlers.when_case_assessment_completed_rescind_if_on_time,
    ReferralWithdrawn: handlers.when_referral_withdrawn_rescind,
}


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-warrants` group until `stop` is set."""
    warrants = bootstrap()
    try:
        await run_consumer(
            warrants.settings,
            topics=TOPICS,
            handlers=HANDLERS,
            unit_of_work=warrants.unit_of_work,
            stop=stop,
            group_id=GROUP_ID,
        )
    finally:
        await warrants.engine.dispose()
