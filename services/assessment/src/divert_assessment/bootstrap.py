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
from divert_assessment.domain.organisations import OrganisationRegistry, load_organisations
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
    organisations: OrganisationRegistry
    """Who consents may name and disclosures may go to (read-only data, loaded once per process)."""

    def unit_of_work(self) -> SqlAssessmentUnitOfWork:
        """A new unit of work on assessment's database."""
        return SqlAssessmentUnitOfWork(
            self.sessions,
            self.settings.event_source,
            on_commit=count_committed,
            to_integration_event=to_integration_event,
        )


def bootstrap(settings: AssessmentSettings | None = None) -> Assessment:
    """Build assessment's parts from settings (the environment by default).

    Refuses to start (`InvalidRegistry`) when the organisations file is missing or invalid.
    """
    settings = settings or AssessmentSettings()
    organisations = load_organisations(settings.organisations_file)
    engine = create_engine(settings.database_url)
    return Assessment(settings, engine, create_session_factory(engine), organisations)


async def app_settings(assessment: Annotated[Assessment, Depends(service_parts)]) -> AssessmentSettings:
    """The app's settings."""
    return assessment.settings


async def registered_organisations(assessment: Annotated[Assessment, Depends(service_parts)]) -> OrganisationRegistry:
    """The program's registry of organisations."""
    return assessment.organisations


# The platform's dependencies (`divert_platform.dependencies`), typed as assessment's.
Settings = Annotated[AssessmentSettings, Depends(app_settings)]
Organisations = Annotated[OrganisationRegistry, Depends(registered_organisations)]
UnitOfWork = Annotated[SqlAssessmentUnitOfWork, Depends(unit_of_work)]
