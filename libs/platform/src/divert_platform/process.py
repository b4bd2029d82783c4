"""Running a long-lived role (relay, consumer, worker) until SIGINT or SIGTERM."""

import asyncio
import signal
from collections.abc import Awaitable, Callable

from divert_platform.telemetry import shutdown_telemetry


def run_until_stopped(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` in a new event loop; a signal sets `stop` so it can finish its current work."""

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        asyncio.run(_run())
    finally:
        shutdown_telemetry()
