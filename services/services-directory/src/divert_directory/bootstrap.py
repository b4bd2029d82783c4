"""The directory's composition root: every process builds its parts here and nowhere else."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_directory.adapters.catalogue import SqlCatalogue
from divert_directory.config import DirectorySettings
from divert_directory.domain.catalogue import Catalogue
from divert_platform.db import create_engine, create_session_factory
from divert_platform.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Directory:
    """The wired-up parts a services-directory process uses."""

    settings: DirectorySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalogue: Catalogue
    """The HSDS catalogue as matching and service referrals read it."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on the directory's database."""
        return UnitOfWork(self.sessions, self.settings.event_source)


def bootstrap(settings: DirectorySettings | None = None) -> Directory:
    """Build the directory's parts from settings (the environment by default)."""
    settings = settings or DirectorySettings()
    engine = create_engine(settings.database_url)
    return Directory(settings, engine, create_session_factory(engine), SqlCatalogue())
