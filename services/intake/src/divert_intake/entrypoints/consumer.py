"""`divert-intake consumer`: runs the deadline clocks from events (accepted → start; withdrawn,
extended, assessed → signal) and notes enrollments, warrant requests and rescissions for the
police status view."""

import asyncio
from functools import partial

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import CaseAssessmentCompleted, CaseParticipantEnrolled
from divert_contracts.referrals import ReferralAccepted, ReferralDeadlineExtended, ReferralWithdrawn
from divert_contracts.topics import CASES, REFERRALS, WARRANTS
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import bootstrap
from divert_intake.service_layer import handlers
from divert_intake.service_layer.ports import DeadlineClock
from divert_platform.consumer import Effect, Handler
from divert_platform.roles import run_consumer

TOPICS = (REFERRALS, CASES, WARRANTS)


def consumer_handlers(clock: DeadlineClock) -> dict[type[IntegrationEvent], Handler]:
    """Each event type's handler, applied in the runner's unit of work, with `clock` bound."""
    return {
        ReferralWithdrawn: partial(handlers.when_referral_withdrawn_stop_deadline, clock=clock),
        ReferralDeadlineExtended: partial(handlers.when_deadline_extended_move_deadline, clock=clock),
        CaseAssessmentCompleted: partial(handlers.when_case_assessment_completed_stop_deadline, clock=clock),
        CaseParticipantEnrolled: handlers.when_participant_enrolled_note_it,
        WarrantRequested: handlers.when_warrant_requested_note_it,
        WarrantRequestRescinded: handlers.when_warrant_request_rescinded_note_it,
    }


def consumer_effects(clock: DeadlineClock) -> dict[type[IntegrationEvent], Effect]:
    """Reactions run outside any transaction: intake's database is not locked while Temporal answers."""
    return {ReferralAccepted: partial(handlers.when_referral_accepted_start_deadline, clock=clock)}


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-intake` group until `stop` is set."""
    intake = bootstrap()
    try:
        clock = TemporalDeadlineClock(await intake.temporal.client())
        await run_consumer(
            intake.settings,
            topics=TOPICS,
            handlers=consumer_handlers(clock),
            effects=consumer_effects(clock),
            unit_of_work=intake.unit_of_work,
            stop=stop,
        )
    finally:
        await intake.engine.dispose()
