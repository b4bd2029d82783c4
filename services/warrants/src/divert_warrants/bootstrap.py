"""Warrants' composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API keeps them as `app.state.parts`, where the
platform's dependencies (`divert_platform.dependencies`) hand them to routes, typed by the alias
below; tests can replace any of them with `app.dependency_overrides`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_platform.db import create_engine, create_session_factory
from divert_platform.dependencies import unit_of_work
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


UnitOfWork = Annotated[SqlWarrantsUnitOfWork, Depends(unit_of_work)]
"""A route's unit of work (the platform's dependency, typed as warrants')."""
