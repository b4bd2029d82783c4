"""`divert-intake worker`: runs the deadline workflows and their activities."""

import asyncio

from divert_intake.bootstrap import DEADLINE_WORKER, bootstrap, build_worker, warrants_client


async def main(stop: asyncio.Event) -> None:
    """Run the deadline worker until `stop` is set."""
    intake = bootstrap(process=DEADLINE_WORKER)
    try:
        client = await intake.temporal.client()
        async with warrants_client(intake.settings) as warrants, build_worker(intake, client, warrants):
            await stop.wait()
    finally:
        await intake.engine.dispose()
