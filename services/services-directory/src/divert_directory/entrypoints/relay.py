"""`divert-directory relay`: publishes the directory's outbox to `divert.directory`.

The outbox is empty until service referrals arrive; the role runs already so deployments need
no change when it starts to carry events.
"""

import asyncio

from divert_directory.bootstrap import bootstrap
from divert_platform.roles import run_relay


async def main(stop: asyncio.Event) -> None:
    """Run the outbox relay until `stop` is set."""
    directory = bootstrap()
    try:
        await run_relay(directory.settings, directory.sessions, stop)
    finally:
        await directory.engine.dispose()
