"""Warrants' composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API's dependencies below hand them to routes
(`app.state.warrants`), so tests can replace any of them with `app.dependency_overrides`.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_platform.auth import Principal, authenticated
from divert_platform.db import create_engine, create_session_factory
from divert_warrants.adapters.metrics import count_committed
from divert_warrants.config import WarrantsSettings
from divert_warrants.service_layer.integration import to_integration_event
from divert_warrants.service_layer.unit_of_work import SqlWarrantsUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Warrants:
    """The wired-up parts a warrants process uses."""

    settings: WarrantsSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> SqlWarrantsUnitOfWork:
        """A new unit of work on the warrants database."""
        return SqlWarrantsUnitOfWork(
            self.sessions,
            self.settings.event_source,
            on_commit=count_committed,
            to_integration_event=to_integration_event,
        )


def bootstrap(settings: WarrantsSettings | None = None) -> Warrants:
    """Build the warrants service's parts from settings (the environment by default)."""
    settings = settings or WarrantsSettings()
    engine = create_engine(settings.database_url)
    return Warrants(settings, engine, create_session_factory(engine))


async def parts(request: Request) -> Warrants:
    """The app's parts (put there by `build_api`)."""
    warrants: Warrants = request.app.state.warrants
    return warrants


async def unit_of_work(
    warrants: Annotated[Warrants, Depends(parts)], caller: Annotated[Principal, Depends(authenticated)]
) -> SqlWarrantsUnitOfWork:
    """A fresh unit of work for a command, its changes attributed to the caller's verified token
    (the route opens and commits it)."""
    uow = warrants.unit_of_work()
    uow.cause = caller.cause()
    return uow


async def read_session(warrants: Annotated[Warrants, Depends(parts)]) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads."""
    async with warrants.sessions() as session:
        yield session


UnitOfWork = Annotated[SqlWarrantsUnitOfWork, Depends(unit_of_work)]
ReadSession = Annotated[AsyncSession, Depends(read_session)]
