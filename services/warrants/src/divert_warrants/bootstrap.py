"""Warrants' composition root: every process builds its parts here and nowhere else."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_platform.db import create_engine, create_session_factory
from divert_platform.unit_of_work import UnitOfWork
from divert_warrants.adapters.metrics import count_committed
from divert_warrants.config import WarrantsSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Warrants:
    """The wired-up parts a warrants process uses."""

    settings: WarrantsSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on the warrants database."""
        return UnitOfWork(self.sessions, self.settings.event_source, on_commit=count_committed)


def bootstrap(settings: WarrantsSettings | None = None) -> Warrants:
    """Build the warrants service's parts from settings (the environment by default)."""
    settings = settings or WarrantsSettings()
    engine = create_engine(settings.database_url)
    return Warrants(settings, engine, create_session_factory(engine))
