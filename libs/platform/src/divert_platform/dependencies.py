"""The FastAPI dependencies every service's routes share: its parts, a unit of work for a command
and a session for a read.

`create_app(parts=...)` keeps the service's parts as `app.state.parts`; each service's
`bootstrap.py` names the typed aliases its routes use, e.g.

    UnitOfWork = Annotated[SqlIntakeUnitOfWork, Depends(unit_of_work)]
    Parts = Annotated[Intake, Depends(service_parts)]

and tests swap any of them with `app.dependency_overrides`. Every dependency is `async def`: FastAPI
runs a plain `def` dependency in a worker thread, a thread hand-off per request for nothing.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_platform.auth import Principal, authenticated
from divert_platform.settings import ServiceSettings
from divert_platform.unit_of_work import SqlUnitOfWork


class ServiceParts(Protocol):
    """What every service's composition root builds (`bootstrap()`)."""

    @property
    def settings(self) -> ServiceSettings:
        """The service's settings."""
        ...

    @property
    def engine(self) -> AsyncEngine:
        """The engine of the service's database."""
        ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the service's database."""
        ...

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work on the service's database."""
        ...


async def service_parts(request: Request) -> Any:
    """The app's parts (typed by each service's alias, which names its own parts class)."""
    return request.app.state.parts


async def unit_of_work(request: Request, caller: Annotated[Principal, Depends(authenticated)]) -> SqlUnitOfWork:
    """A fresh unit of work for a command, its changes attributed to the caller's verified token.

    The route opens and commits it through the idempotency helper (`IdempotentRequest.run`). The
    parts are read straight from the app, not through `service_parts`: every dependency FastAPI
    resolves costs each request (this one is on every command's path)."""
    parts: ServiceParts = request.app.state.parts
    uow = parts.unit_of_work()
    uow.cause = caller.cause()
    return uow


async def read_session(parts: Annotated[ServiceParts, Depends(service_parts)]) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads (a read of personal data uses `audit.Audited`)."""
    async with parts.sessions() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]
