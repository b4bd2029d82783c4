"""`divert-warrants relay`: publishes the warrants outbox to `divert.warrants`."""

import asyncio

from divert_contracts import dataplane
from divert_platform.roles import run_relay
from divert_warrants.bootstrap import bootstrap


async def main(stop: asyncio.Event) -> None:
    """Run the outbox relay until `stop` is set."""
    warrants = bootstrap()
    try:
        await run_relay(warrants.settings, warrants.sessions, stop, access=dataplane.service("warrants"))
    finally:
        await warrants.engine.dispose()
