"""`divert-directory consumer`: keeps what matching and service referrals need of `divert.cases`.

Per case: its jurisdiction and owning agency, its latest needs and priorities, its consents
(parties, purpose, scope, Part 2, expiry, revocation) and whether it is closed. The platform's
runner de-duplicates by CloudEvents id in the same transaction as the effect and dead-letters
what can never apply; the handlers tolerate late and out-of-order events.
"""

import asyncio

from divert_contracts.topics import CASES
from divert_directory.bootstrap import bootstrap
from divert_directory.service_layer.case_reactions import case_handlers
from divert_platform.roles import run_consumer

GROUP_ID = "divert-directory"
TOPICS = (CASES,)


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
