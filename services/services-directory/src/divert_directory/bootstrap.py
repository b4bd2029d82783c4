"""The directory's composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API keeps them as `app.state.parts`, where the
platform's dependencies hand them to routes, typed by the aliases below; tests can replace any of
them with `app.dependency_overrides`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_directory.config import DirectorySettings
from divert_directory.service_layer.integration import to_integration_event
from divert_directory.service_layer.unit_of_work import SqlDirectoryUnitOfWork
from divert_platform.db import create_engine, create_session_factory
from divert_platform.dependencies import service_parts, unit_of_work

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Directory:
    """The wired-up parts a services-directory process uses."""

    settings: DirectorySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> SqlDirectoryUnitOfWork:
        """A new unit of work on the directory's database."""
        return SqlDirectoryUnitOfWork(
            self.sessions, self.settings.event_source, to_integration_event=to_integration_event
        )


def bootstrap(settings: DirectorySettings | None = None) -> Directory:
    """Build the directory's parts from settings (the environment by default)."""
    settings = settings or DirectorySettings()
    engine = create_engine(settings.database_url)
    return Directory(settings, engine, create_session_factory(engine))


async def case_agencies(directory: Annotated[Directory, Depends(service_parts)]) -> Mapping[str, str]:
    """The case agency serving each jurisdiction (`DIVERT_CASE_AGENCIES`)."""
    return directory.settings.case_agencies


# The platform's dependencies (`divert_platform.dependencies`), typed as the directory's.
Parts = Annotated[Directory, Depends(service_parts)]
UnitOfWork = Annotated[SqlDirectoryUnitOfWork, Depends(unit_of_work)]
CaseAgencies = Annotated[Mapping[str, str], Depends(case_agencies)]
