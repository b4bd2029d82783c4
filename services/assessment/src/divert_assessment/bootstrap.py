"""Assessment's composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings; the API keeps them as `app.state.parts`, where the
platform's dependencies hand them to routes, typed by the aliases below; tests can replace any of
them with `app.dependency_overrides`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_assessment.adapters.metrics import count_committed
from divert_assessment.config import AssessmentSettings
from divert_assessment.service_layer.integration import to_integration_event
from divert_assessment.service_layer.unit_of_work import SqlAssessmentUnitOfWork
from divert_platform.db import create_engine, create_session_factory
from divert_platform.dependencies import service_parts, unit_of_work

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


def bootstrap(settings: AssessmentSettings | None = None) -> Assessment:
    """Build assessment's parts from settings (the environment by default)."""
    settings = settings or AssessmentSettings()
    engine = create_engine(settings.database_url)
    return Assessment(settings, engine, create_session_factory(engine))


async def app_settings(assessment: Annotated[Assessment, Depends(service_parts)]) -> AssessmentSettings:
    """The app's settings."""
    return assessment.settings


# The platform's dependencies (`divert_platform.dependencies`), typed as assessment's.
Settings = Annotated[AssessmentSettings, Depends(app_settings)]
UnitOfWork = Annotated[SqlAssessmentUnitOfWork, Depends(unit_of_work)]
