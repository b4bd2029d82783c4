"""`divert-directory consumer`: keeps what matching and service referrals need of `divert.cases`.

Per case: its jurisdiction and owning agency, its latest needs and priorities, its consents
(parties, purpose, scope, Part 2, expiry, revocation) and whether it is closed. The platform's
runner de-duplicates by CloudEvents id in the same transaction as the effect and dead-letters
what can never apply; the handlers tolerate late and out-of-order events.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from divert_contracts import dataplane
from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
)
from divert_directory.bootstrap import bootstrap
from divert_directory.service_layer import case_reactions as reactions
from divert_platform.consumer import Handler
from divert_platform.roles import run_consumer

ACCESS = dataplane.service("directory")
GROUP_ID = ACCESS.consumer_group
TOPICS = ACCESS.consumes  # what its Kafka principal may read, and nothing else (docs/access.md)
REACTIONS: dict[type[IntegrationEvent], Callable[..., Awaitable[None]]] = {
    CaseOpened: reactions.when_case_opened_note_case,
    CaseAssessmentCompleted: reactions.when_case_assessment_completed_note_needs,
    CaseConsentRecorded: reactions.when_case_consent_recorded_note_consent,
    CaseConsentRevoked: reactions.when_case_consent_revoked_note_revocation,
    CaseClosed: reactions.when_case_closed_note_closure,
    CaseReopened: reactions.when_case_reopened_note_reopening,
}
"""Each case event's reaction, before its `case_agencies` is bound."""


def case_handlers(case_agencies: Mapping[str, str]) -> dict[type[IntegrationEvent], Handler]:
    """The consumer's handlers, by event type, for the agencies serving each jurisdiction."""
    return {event_type: partial(react, case_agencies=case_agencies) for event_type, react in REACTIONS.items()}


async def main(stop: asyncio.Event) -> None:
    """Consume as the `divert-directory` group until `stop` is set."""
    directory = bootstrap()
    try:
        await run_consumer(
            directory.settings,
            topics=TOPICS,
            handlers=case_handlers(directory.settings.case_agencies),
            unit_of_work=directory.unit_of_work,
            stop=stop,
            group_id=GROUP_ID,
        )
    finally:
        await directory.engine.dispose()
