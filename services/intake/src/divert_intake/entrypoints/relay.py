"""`divert-intake relay`: publishes intake's outbox to `divert.referrals`, and delivers the
agencies' status callbacks from the callback outbox (`divert_platform.callbacks.delivery`)."""

import asyncio

from divert_contracts import dataplane
from divert_intake.bootstrap import bootstrap
from divert_platform.callbacks.delivery import CallbackDelivery
from divert_platform.callbacks.targets import callback_client
from divert_platform.roles import run_relay


async def main(stop: asyncio.Event) -> None:
    """Run the outbox relay and the callback delivery until `stop` is set."""
    intake = bootstrap()
    settings = intake.settings
    try:
        # Pooled connections to partners, public addresses only outside development.
        async with callback_client(development=settings.environment == "development") as client:
            delivery = CallbackDelivery(intake.sessions, client, settings.callback_box, settings.callback_policy)
            async with asyncio.TaskGroup() as tasks:  # one failing stops the other, and the process
                tasks.create_task(run_relay(settings, intake.sessions, stop, access=dataplane.service("intake")))
                tasks.create_task(delivery.run(stop))
    finally:
        await intake.engine.dispose()
