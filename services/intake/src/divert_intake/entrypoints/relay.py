"""`divert-intake relay`: publishes intake's outbox to `divert.referrals`."""

import asyncio

from divert_contracts import dataplane
from divert_intake.bootstrap import bootstrap
from divert_platform.roles import run_relay


async def main(stop: asyncio.Event) -> None:
    """Run the outbox relay until `stop` is set."""
    intake = bootstrap()
    try:
        await run_relay(intake.settings, intake.sessions, stop, access=dataplane.service("intake"))
    finally:
        await intake.engine.dispose()
