"""`divert-assessment consumer`: opens a case for every accepted referral on `divert.referrals`, and
marks due-soon reminders and deadline extensions on it."""

import asyncio
from functools import partial

from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.service_layer import handlers
from divert_contracts import dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import ReferralAccepted, ReferralAssessmentDueSoon, ReferralDeadlineExtended
from divert_platform.consumer import Handler
from divert_platform.roles import run_consumer

ACCESS = dataplane.service("assessment")
GROUP_ID = ACCESS.consumer_group
TOPICS = ACCESS.consumes  # what its Kafka principal may read, and nothing else (docs/access.md)


def consumer_handlers(assessment: Assessment) -> dict[type[IntegrationEvent], Handler]:
    """The handler of each event type consumed, with the case agencies of `assessment`'s settings."""
    return {
        ReferralAccepted: partial(
            handlers.when_referral_accepted_open_case, case_agencies=assessment.settings.case_agencies
        ),
        ReferralAssessmentDueSoon: handlers.when_assessment_due_soon_mark_case,
        ReferralDeadlineExtended: handlers.when_deadline_extended_move_due_time,
    }


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-assessment` group until `stop` is set."""
    assessment = bootstrap()
    try:
        await run_consumer(
            assessment.settings,
            topics=TOPICS,
            handlers=consumer_handlers(assessment),
            unit_of_work=assessment.unit_of_work,
            stop=stop,
            group_id=GROUP_ID,
        )
    finally:
        await assessment.engine.dispose()
