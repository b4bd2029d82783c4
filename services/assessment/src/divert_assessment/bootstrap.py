"""Assessment's composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API's dependencies below hand them to routes
(`app.state.assessment`), so tests can replace any of them with `app.dependency_overrides`.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_assessment.adapters.metrics import count_committed
from divert_assessment.config import AssessmentSettings
from divert_assessment.service_layer.integration import to_integration_event
from divert_assessment.service_layer.unit_of_work import SqlAssessmentUnitOfWork
from divert_platform.audit import AuditTrail
from divert_platform.auth import Principal, authenticated
from divert_platform.db import create_engine, create_session_factory

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Assessment:
    """The wired-up parts an assessment process uses."""

    settings: AssessmentSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> SqlAssessmentUnitOfWork:
        """A new unit of work on assessment's database."""
        return SqlAssessmentUnitOfWork(
            self.sessions,
            self.settings.event_source,
            on_commit=count_committed,
            to_integration_event=to_integration_event,
        )

    def audit_trail(self) -> AuditTrail:
        """The trail of reads of personal data, on assessment's database (each read committed alone)."""
        return AuditTrail(self.sessions)


def bootstrap(settings: AssessmentSettings | None = None) -> Assessment:
    """Build assessment's parts from settings (the environment by default)."""
    settings = settings or AssessmentSettings()
    engine = create_engine(settings.database_url)
    return Assessment(settings, engine, create_session_factory(engine))


async def parts(request: Request) -> Assessment:
    """The app's parts (put there by `build_api`)."""
    assessment: Assessment = request.app.state.assessment
    return assessment


async def app_settings(assessment: Annotated[Assessment, Depends(parts)]) -> AssessmentSettings:
    """The app's settings."""
    return assessment.settings


async def unit_of_work(
    assessment: Annotated[Assessment, Depends(parts)], caller: Annotated[Principal, Depends(authenticated)]
) -> SqlAssessmentUnitOfWork:
    """A fresh unit of work for a command, its changes attributed to the caller's verified token
    (the route opens and commits it)."""
    uow = assessment.unit_of_work()
    uow.cause = caller.cause()
    return uow


async def read_session(assessment: Annotated[Assessment, Depends(parts)]) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads.

    A route that records the read in the audit trail closes it first: on SQLite every transaction
    holds the file's write lock, and the process's one connection, until it ends.
    """
    async with assessment.sessions() as session:
        yield session


async def audit_trail(assessment: Annotated[Assessment, Depends(parts)]) -> AuditTrail:
    """Where reads of personal data are recorded."""
    return assessment.audit_trail()


Settings = Annotated[AssessmentSettings, Depends(app_settings)]
UnitOfWork = Annotated[SqlAssessmentUnitOfWork, Depends(unit_of_work)]
ReadSession = Annotated[AsyncSession, Depends(read_session)]
Trail = Annotated[AuditTrail, Depends(audit_trail)]
