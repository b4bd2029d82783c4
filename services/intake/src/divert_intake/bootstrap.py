"""Intake's composition root: every process builds its parts here and nowhere else."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from divert_intake.adapters.metrics import count_committed
from divert_intake.config import IntakeSettings
from divert_intake.domain.policy import PolicyBook, load_policy_book
from divert_platform.db import create_engine, create_session_factory
from divert_platform.roles import until_reachable
from divert_platform.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Intake:
    """The wired-up parts an intake process uses."""

    settings: IntakeSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    policies: PolicyBook

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on intake's database."""
        return UnitOfWork(self.sessions, self.settings.event_source, on_commit=count_committed)


def bootstrap(settings: IntakeSettings | None = None) -> Intake:
    """Build intake's parts from settings (the environment by default)."""
    settings = settings or IntakeSettings()
    engine = create_engine(settings.database_url)
    return Intake(settings, engine, create_session_factory(engine), load_policy_book())


async def connect_temporal(settings: IntakeSettings) -> Client:
    """A Temporal client with pydantic payloads and tracing; waits while the server comes up."""
    async for attempt in until_reachable():
        with attempt:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
                interceptors=[TracingInterceptor()],
            )
    raise AssertionError("unreachable: until_reachable retries until it succeeds")
