"""Intake's composition root: every process builds its parts here and nowhere else.

`bootstrap()` builds the parts from settings. The API keeps them as `app.state.parts`, where the
platform's dependencies hand them to routes, typed by the aliases at the end of this module; tests
can replace any of them with `app.dependency_overrides`. The
consumer, relay and worker entrypoints start from `bootstrap()` too; the worker's Temporal worker,
its activities and the HTTP client they call warrants with are built here as well.
"""

import asyncio
import socket
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from divert_intake.adapters.metrics import count_committed
from divert_intake.config import IntakeSettings
from divert_intake.deadline.activities import DeadlineActivities
from divert_intake.deadline.approval_workflow import ReferralApprovalWorkflow
from divert_intake.deadline.models import TASK_QUEUE
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_intake.domain.policy import PolicyBook, load_policy_book
from divert_intake.service_layer.integration import to_integration_event
from divert_intake.service_layer.unit_of_work import SqlIntakeUnitOfWork
from divert_platform.auth import service_token
from divert_platform.db import create_engine, create_session_factory
from divert_platform.dependencies import service_parts, unit_of_work
from divert_platform.roles import until_reachable

MIGRATIONS = Path(__file__).parent / "migrations"

WARRANTS_TIMEOUT = 20.0
"""Seconds one call to warrants may take before the activity's attempt fails (and is retried)."""


def temporal_identity(process: str | None) -> str:
    """The identity a process shows Temporal (in workflow histories and the worker list):
    `divert-intake[-<process>]@<host>`, like the subject of its service token."""
    return f"divert-intake{f'-{process}' if process else ''}@{socket.gethostname()}"


def temporal_tls(settings: IntakeSettings) -> TLSConfig | bool:
    """The TLS configuration of the Temporal connection: False for plaintext (refused outside
    development unless allowed, see `IntakeSettings`), True for TLS with the system's CAs."""
    if not settings.temporal_uses_tls:
        return False
    files = (settings.temporal_tls_ca_file, settings.temporal_tls_cert_file, settings.temporal_tls_key_file)
    if all(path is None for path in files) and settings.temporal_tls_server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=_read_pem(settings.temporal_tls_ca_file, "DIVERT_TEMPORAL_TLS_CA_FILE"),
        domain=settings.temporal_tls_server_name,
        client_cert=_read_pem(settings.temporal_tls_cert_file, "DIVERT_TEMPORAL_TLS_CERT_FILE"),
        client_private_key=_read_pem(settings.temporal_tls_key_file, "DIVERT_TEMPORAL_TLS_KEY_FILE"),
    )


def _read_pem(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise RuntimeError(f"{setting}: cannot read {path} ({error.strerror})") from error


def temporal_connect_options(settings: IntakeSettings, process: str | None = None) -> dict[str, Any]:
    """The keyword arguments of `Client.connect` for this process: namespace, transport security,
    credentials, identity, pydantic payloads and tracing."""
    return {
        "namespace": settings.temporal_namespace,
        "tls": temporal_tls(settings),
        "api_key": settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
        "identity": temporal_identity(process),
        "data_converter": pydantic_data_converter,
        "interceptors": [TracingInterceptor()],
    }


async def connect_temporal(settings: IntakeSettings, process: str | None = None) -> Client:
    """A Temporal client for this process (`temporal_connect_options`); waits while the server
    comes up. Unreadable TLS files fail at once: waiting would not cure them."""
    options = temporal_connect_options(settings, process)
    async for attempt in until_reachable():
        with attempt:
            return await Client.connect(settings.temporal_address, **options)
    raise AssertionError("unreachable: until_reachable retries until it succeeds")


class TemporalConnection:
    """The process's Temporal client, connected on first use and kept for the next."""

    def __init__(self, settings: IntakeSettings, process: str | None = None) -> None:
        self._settings = settings
        self._process = process
        self._client: Client | None = None
        self._connecting = asyncio.Lock()

    async def client(self) -> Client:
        """The client; the first call connects (waiting while the server comes up)."""
        async with self._connecting:
            if self._client is None:
                self._client = await connect_temporal(self._settings, self._process)
        return self._client

    async def check(self) -> None:
        """Readiness: the Temporal frontend answers its health check."""
        await (await self.client()).service_client.check_health()


@dataclass
class Intake:
    """The wired-up parts an intake process uses."""

    settings: IntakeSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    policies: PolicyBook
    process: str | None = None
    """Which intake process this is (`consumer`, `deadline-worker`; None for the API and tools)."""
    temporal: TemporalConnection = field(init=False)

    def __post_init__(self) -> None:
        self.temporal = TemporalConnection(self.settings, self.process)

    def unit_of_work(self) -> SqlIntakeUnitOfWork:
        """A new unit of work on intake's database."""
        return SqlIntakeUnitOfWork(
            self.sessions,
            self.settings.event_source,
            self.policies,
            on_commit=count_committed,
            to_integration_event=to_integration_event,
        )


def bootstrap(settings: IntakeSettings | None = None, *, process: str | None = None) -> Intake:
    """Build intake's parts from settings (the environment by default) for `process`."""
    settings = settings or IntakeSettings()
    engine = create_engine(settings.database_url)
    return Intake(settings, engine, create_session_factory(engine), load_policy_book(), process)


# --- the deadline worker ---------------------------------------------------------------------


def warrants_client(settings: IntakeSettings) -> httpx.AsyncClient:
    """The HTTP client the deadline activity calls warrants with (its base URL set; the caller closes it)."""
    return httpx.AsyncClient(base_url=settings.warrants_url, timeout=WARRANTS_TIMEOUT)


DEADLINE_WORKER = "deadline-worker"
"""The process name of `divert-intake worker` (its Temporal identity and token subject)."""


def deadline_activities(intake: Intake, warrants: httpx.AsyncClient) -> DeadlineActivities:
    """The deadline workflow's activities over intake's database and `warrants`, calling warrants
    as the deadline worker (the one caller warrants takes lapse requests from)."""
    # The token is minted afresh per call in development (a day's lifetime); configured in production.
    token = partial(service_token, intake.settings, role="deadline_worker", process=DEADLINE_WORKER)
    return DeadlineActivities(intake.unit_of_work, warrants, token=token)


def deadline_worker(client: Client, activities: DeadlineActivities) -> Worker:
    """A worker of the deadline task queue: the deadline and approval workflows, and the
    activities of `activities`."""
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[ReferralDeadlineWorkflow, ReferralApprovalWorkflow],
        activities=[
            activities.request_warrant,
            activities.record_lapse,
            activities.raise_reminder,
            activities.apply_approval_timeout,
        ],
    )


def build_worker(intake: Intake, client: Client, warrants: httpx.AsyncClient) -> Worker:
    """The worker `divert-intake worker` runs: the deadline workflow with intake's real activities."""
    return deadline_worker(client, deadline_activities(intake, warrants))


# --- the API's dependencies ------------------------------------------------------------------


# The platform's dependencies, typed as intake's (`divert_platform.dependencies`).
Parts = Annotated[Intake, Depends(service_parts)]
UnitOfWork = Annotated[SqlIntakeUnitOfWork, Depends(unit_of_work)]


async def policy_book(intake: Parts) -> PolicyBook:
    """The jurisdictions' policies this process judges referrals by."""
    return intake.policies


Policies = Annotated[PolicyBook, Depends(policy_book)]
