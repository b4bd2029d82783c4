"""`divert-intake consumer`: runs the deadline clocks from events (accepted → start; withdrawn,
extended, assessed → signal), starts the approval timers of referrals waiting at a gate, and
notes enrollments, closures, warrant requests and rescissions for the police status view (and the
agencies' status callbacks), and case openings for the program's reports.

Intake stands on the enforcement side of LEAD's golden rule: of cases it reads only the
status-only milestones (`divert.case-milestones`), never `divert.cases`.
"""

import asyncio
from collections.abc import Callable
from functools import partial

from divert_contracts import dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.referrals import (
    ReferralAccepted,
    ReferralApprovalRequested,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
)
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.temporal_clock import TemporalApprovalTimer, TemporalDeadlineClock
from divert_intake.bootstrap import bootstrap
from divert_intake.service_layer import handlers
from divert_intake.service_layer.ports import ApprovalTimer, DeadlineClock
from divert_intake.service_layer.unit_of_work import IntakeUnitOfWork
from divert_platform.consumer import Effect, Handler
from divert_platform.roles import run_consumer

TOPICS = dataplane.service("intake").consumes
GROUP_ID = dataplane.service("intake").consumer_group


def consumer_handlers(clock: DeadlineClock) -> dict[type[IntegrationEvent], Handler]:
    """Each event type's handler, applied in the runner's unit of work, with `clock` bound."""
    return {
        ReferralWithdrawn: partial(handlers.when_referral_withdrawn_stop_deadline, clock=clock),
        ReferralDeadlineExtended: partial(handlers.when_deadline_extended_move_deadline, clock=clock),
        CaseAssessedMilestone: partial(handlers.when_case_assessed_stop_deadline, clock=clock),
        CaseOpenedMilestone: handlers.when_case_opened_note_it,
        CaseEnrolledMilestone: handlers.when_participant_enrolled_note_it,
        CaseClosedMilestone: handlers.when_case_closed_note_it,
        WarrantRequested: handlers.when_warrant_requested_note_it,
        WarrantRequestRescinded: handlers.when_warrant_request_rescinded_note_it,
    }


def consumer_effects(
    clock: DeadlineClock, unit_of_work: Callable[[], IntakeUnitOfWork], timer: ApprovalTimer | None = None
) -> dict[type[IntegrationEvent], Effect]:
    """Reactions run outside any transaction: intake's database is not locked while Temporal
    answers (the referral is read in a short unit of work of `unit_of_work`, closed first).
    Without `timer`, approval requests reach no timer (tests of the deadline alone)."""
    start = partial(handlers.when_referral_accepted_start_deadline, clock=clock, unit_of_work=unit_of_work)
    effects: dict[type[IntegrationEvent], Effect] = {ReferralAccepted: start}
    if timer is not None:
        effects[ReferralApprovalRequested] = partial(
            handlers.when_approval_requested_start_timer, timer=timer, unit_of_work=unit_of_work
        )
    return effects


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-intake` group until `stop` is set."""
    intake = bootstrap(process="consumer")
    try:
        client = await intake.temporal.client()
        clock = TemporalDeadlineClock(client)
        await run_consumer(
            intake.settings,
            topics=TOPICS,
            group_id=GROUP_ID,
            handlers=consumer_handlers(clock),
            effects=consumer_effects(clock, intake.unit_of_work, TemporalApprovalTimer(client)),
            unit_of_work=intake.unit_of_work,
            stop=stop,
        )
    finally:
        await intake.engine.dispose()
