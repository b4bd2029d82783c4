"""`divert-directory relay`: publishes the directory's outbox (service referrals made and moved on)
to `divert.directory`."""

import asyncio

from divert_contracts import dataplane
from divert_directory.bootstrap import bootstrap
from divert_platform.roles import run_relay


async def main(stop: asyncio.Event) -> None:
    """Run the outbox relay until `stop` is set."""
    directory = bootstrap()
    try:
        await run_relay(directory.settings, directory.sessions, stop, access=dataplane.service("directory"))
    finally:
        await directory.engine.dispose()
