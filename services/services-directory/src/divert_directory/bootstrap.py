"""The directory's composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API's dependencies below hand them to routes
(`app.state.directory`), so tests can replace any of them with `app.dependency_overrides`.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_directory.config import DirectorySettings
from divert_directory.service_layer.integration import to_integration_event
from divert_directory.service_layer.unit_of_work import SqlDirectoryUnitOfWork
from divert_platform.audit import AuditTrail
from divert_platform.auth import Principal, authenticated
from divert_platform.db import create_engine, create_session_factory

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Directory:
    """The wired-up parts a services-directory process uses."""

    settings: DirectorySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    trail: AuditTrail = field(init=False)
    """Where reads of a case's suggestions and service referrals are recorded."""

    def __post_init__(self) -> None:
        self.trail = AuditTrail(self.sessions)

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


async def parts(request: Request) -> Directory:
    """The app's parts (put there by `build_api`)."""
    directory: Directory = request.app.state.directory
    return directory


async def unit_of_work(
    directory: Annotated[Directory, Depends(parts)], caller: Annotated[Principal, Depends(authenticated)]
) -> SqlDirectoryUnitOfWork:
    """A fresh unit of work for a command, its changes attributed to the caller's verified token
    (the route opens and commits it)."""
    uow = directory.unit_of_work()
    uow.cause = caller.cause()
    return uow


async def read_session(directory: Annotated[Directory, Depends(parts)]) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads. A route that records the read in the audit trail
    closes it first: on SQLite an open read would hold the lock the audit record waits for."""
    async with directory.sessions() as session:
        yield session


async def audit_trail(directory: Annotated[Directory, Depends(parts)]) -> AuditTrail:
    """Where reads of personal data are recorded."""
    return directory.trail


async def case_agencies(directory: Annotated[Directory, Depends(parts)]) -> Mapping[str, str]:
    """The case agency serving each jurisdiction (`DIVERT_CASE_AGENCIES`)."""
    return directory.settings.case_agencies


Parts = Annotated[Directory, Depends(parts)]
UnitOfWork = Annotated[SqlDirectoryUnitOfWork, Depends(unit_of_work)]
ReadSession = Annotated[AsyncSession, Depends(read_session)]
Trail = Annotated[AuditTrail, Depends(audit_trail)]
CaseAgencies = Annotated[Mapping[str, str], Depends(case_agencies)]
