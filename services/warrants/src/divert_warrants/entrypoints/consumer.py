"""`divert-warrants consumer`: warrants' own record of each referral, and no wrongful warrant.

Intake's acceptance, extensions, recorded lapse and withdrawal (`divert.referrals`) and the
assessment milestone (`divert.case-milestones`) become warrants' record of the referral, from
which every lapse notice is judged. An assessment completed on time (against that record's due
time) or a withdrawal, arriving before or after the lapse, rescinds the referral's request (or
flags it for review when the prosecutor or court already acknowledged it).

Warrants is on the enforcement side of LEAD's golden rule: it subscribes to exactly what
`divert_contracts.dataplane` declares for it (and what its Kafka ACLs allow), never `divert.cases`,
whose events carry case content (needs, 42 CFR Part 2 labels).
"""

import asyncio

from divert_contracts import dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.milestones import CaseAssessedMilestone
from divert_contracts.referrals import (
    ReferralAccepted,
    ReferralAssessmentDeadlineLapsed,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
)
from divert_platform.consumer import Handler
from divert_platform.roles import run_consumer
from divert_warrants.bootstrap import bootstrap
from divert_warrants.service_layer import handlers

GROUP_ID = dataplane.service("warrants").consumer_group
TOPICS = dataplane.service("warrants").consumes
HANDLERS: dict[type[IntegrationEvent], Handler] = {
    ReferralAccepted: handlers.when_referral_accepted_keep_its_deadline,
    ReferralDeadlineExtended: handlers.when_deadline_extended_move_the_due_time,
    ReferralAssessmentDeadlineLapsed: handlers.when_deadline_lapsed_keep_the_lapse,
    ReferralWithdrawn: handlers.when_referral_withdrawn_rescind,
    CaseAssessedMilestone: handlers.when_case_assessed_rescind_if_on_time,
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
