"""A service's roles (API, relay, consumer, worker) as tasks of one process: `divert-<svc> all`.

The embedded default (`make run`) runs each service this way, so the stack is four Divert
processes rather than thirteen; production keeps one deployment per role (deploy/). Each role runs
exactly as it does alone: it builds its own parts, connections and identity from the same
settings, so nothing a role does depends on the layout.

A role that fails, or ends while nobody asked the process to stop, stops the others (they finish
their current work, as on SIGTERM) and the process exits with status 1, naming the role in its
log: its supervisor sees the process gone, as it would see a single-role process gone.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping

import uvicorn

from divert_platform.settings import ServiceSettings
from divert_platform.telemetry import current_role

log = logging.getLogger(__name__)

RoleMain = Callable[[asyncio.Event], Awaitable[None]]
"""A role's `async def main(stop)`: runs until `stop` is set."""


class RoleFailed(RuntimeError):
    """One or more roles failed or ended on their own; the process stopped the others."""


class _Server(uvicorn.Server):
    """uvicorn's server without signal handlers of its own: the process's `stop` event ends it.

    `uvicorn.Server.serve` would install handlers for SIGINT and SIGTERM and re-raise the signal
    when it returns, killing the other roles before they finish their work.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_role(factory: str, settings: ServiceSettings) -> RoleMain:
    """The API built by `factory` ("module:function") as a role: served on the configured host and
    port until `stop` is set, then drained as uvicorn drains on SIGTERM."""

    async def main(stop: asyncio.Event) -> None:
        # As `roles.serve_api`: log through the root logger (JSON lines with trace ids), no access log.
        config = uvicorn.Config(
            factory, factory=True, host=settings.host, port=settings.port, log_config=None, access_log=False
        )
        server = _Server(config)

        async def exit_when_stopped() -> None:
            await stop.wait()
            server.should_exit = True

        watcher = asyncio.create_task(exit_when_stopped())
        try:
            await server.serve()
        finally:
            watcher.cancel()

    return main


STOP_GRACE_SECONDS = 8.0
"""How long the roles have to finish once the process is stopping, before the rest are cancelled
(a role still waiting for the broker at start-up would wait for ever). Under `divert run`'s ten
seconds between SIGTERM and SIGKILL, so the process ends on its own, saying which role it cut short."""


async def run_roles(roles: Mapping[str, RoleMain], stop: asyncio.Event, *, grace: float = STOP_GRACE_SECONDS) -> None:
    """Run every role until `stop` is set; raises `RoleFailed` if any failed or ended early.

    The first role to fail or end sets `stop`, so the rest wind down as they would on SIGTERM
    rather than being cancelled in the middle of a unit of work; those not done within `grace`
    seconds are cancelled.
    """
    failed: list[str] = []

    async def supervise(name: str, main: RoleMain) -> None:
        current_role.set(name)  # this task's and its children's spans and log lines name the role
        try:
            await main(stop)
        except (Exception, SystemExit):  # uvicorn exits when it cannot bind its port
            log.exception("the %s role failed; stopping the process's other roles", name)
            failed.append(name)
        else:
            if not stop.is_set():
                log.error("the %s role ended on its own; stopping the process's other roles", name)
                failed.append(name)
        stop.set()

    tasks = {asyncio.create_task(supervise(name, main), name=name): name for name, main in roles.items()}
    try:
        await stop.wait()
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            log.warning("the %s role had not stopped %.0f s after the stop; cancelling it", tasks[task], grace)
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    finally:
        for task in tasks:  # cancelled from outside: leave no role running
            task.cancel()
    if failed:
        raise RoleFailed(f"stopped because these roles failed or ended: {', '.join(failed)}")
