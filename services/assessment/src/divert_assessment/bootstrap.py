"""Assessment's composition root: every process builds its parts here and nowhere else."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from divert_assessment.adapters.metrics import count_committed
from divert_assessment.config import AssessmentSettings
from divert_platform.audit import AuditTrail
from divert_platform.db import create_engine, create_session_factory
from divert_platform.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Assessment:
    """The wired-up parts an assessment process uses."""

    settings: AssessmentSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on assessment's database."""
        return UnitOfWork(self.sessions, self.settings.event_source, on_commit=count_committed)

    def audit_trail(self) -> AuditTrail:
        """The trail of reads of personal data, on assessment's database (each read committed alone)."""
        return AuditTrail(self.sessions)


def bootstrap(settings: AssessmentSettings | None = None) -> Assessment:
    """Build assessment's parts from settings (the environment by default)."""
    settings = settings or AssessmentSettings()
    engine = create_engine(settings.database_url)
    return Assessment(settings, engine, create_session_factory(engine))
