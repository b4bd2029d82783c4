"""Fixtures of intake's API tests: a migrated database (SQLite, and PostgreSQL when configured),
the API over it in-process, and bearer tokens minted with the settings the API was built with.

For the deadline worker's tests with real processes: warrants (its API and its consumer, which
learns of referrals and lapses from intake's events) and a Temporal dev server on its own SQLite
file, each started and stopped by the test; intake with its relay publishing to the session's
broker; and `refer` to record a demo arrest diversion whose window ends when the test wants."""

import asyncio
import copy
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from divert_contracts import dataplane
from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.bootstrap import MIGRATIONS, Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.deadline.models import DeadlineInput
from divert_intake.domain.commands import ExtendDeadline, SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.referral import Referral
from divert_intake.entrypoints.api import build_api
from divert_intake.service_layer import handlers
from divert_platform.auth import Role, mint_token
from divert_platform.cause import Cause
from divert_platform.embedded import free_port, start_temporal, stop_process, venv_bin, wait_for_port
from divert_platform.roles import run_relay
from divert_platform.testing import migrate

Headers = dict[str, str]
Token = Callable[..., Headers]

REFERRAL: dict[str, Any] = {  # an SPD officer's King County arrest diversion
    "jurisdiction": "king-county",
    "pathway": "arrest_diversion",
    "referred_at": "2026-11-02T14:05:00-08:00",
    "rms": {"agency": "SPD", "case_number": "2026-334455", "officer_id": "7781"},
    "subject": {
        "given_name": "Jordan",
        "family_name": "Doe",
        "date_of_birth": "1988-04-02",
        "rms_person_id": "P-99812",
        "phone": "+12065550100",
    },
    "location": {"precinct": "West", "neighborhood": "Belltown"},
    "offense": {
        "category": "drug_possession",
        "statute": "RCW 69.50.4013",
        "drug_quantity_grams": 1.2,
        "drug_type": "opioid",
    },
    "screening": {
        "amenable": True,
        "dealing_for_profit": False,
        "exploits_minors": False,
        "promotes_prostitution": False,
        "disqualifying_convictions": [],
        "on_state_probation": False,
        "in_treatment_court": False,
        "no_contact_order_with_participant": False,
    },
    "contact_drivers": ["drug_use"],
}


@pytest.fixture
def referral_body() -> dict[str, Any]:
    """A fresh copy of an eligible King County arrest diversion referred by an SPD officer."""
    return copy.deepcopy(REFERRAL)


@pytest_asyncio.fixture
async def intake(database_url: str) -> AsyncIterator[Intake]:
    """Intake's parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(IntakeSettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    yield parts
    await parts.engine.dispose()


@pytest_asyncio.fixture
async def client(intake: Intake) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process; it sends no token of its own."""
    transport = httpx.ASGITransport(app=build_api(intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


def bearer(settings: IntakeSettings, role: Role, **claims: Any) -> Headers:
    """An `Authorization` header for `role` with `claims` (subject, agency, jurisdiction, lifetime)."""
    claims.setdefault("subject", f"{role}-test")
    return {"Authorization": f"Bearer {mint_token(settings, role=role, **claims)}"}


@pytest.fixture
def token(intake: Intake) -> Token:
    """Headers for any caller: `token("program_manager", jurisdiction="king-county")`."""
    return lambda role, **claims: bearer(intake.settings, role, **claims)


@pytest.fixture
def officer(token: Token) -> Headers:
    """An SPD officer referring into King County (the agency and jurisdiction of the tests' referrals)."""
    return token("officer", subject="officer-7781", agency="SPD", jurisdiction="king-county")


@pytest.fixture
def manager(token: Token) -> Headers:
    """King County's program manager."""
    return token("program_manager", subject="pm-king", jurisdiction="king-county")


# --- real processes around the deadline worker ------------------------------------------------


@dataclass
class WarrantsProcess:
    """Warrants as separate processes, started and stopped by the test: its API, and its consumer
    reading intake's events from the broker (warrants takes a lapse request only for a lapse it
    has heard of from intake)."""

    port: int
    data_dir: Path
    kafka_bootstrap: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DIVERT_PORT": str(self.port),
            "DIVERT_DATA_DIR": str(self.data_dir),
            "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir / 'warrants.db'}",
            "DIVERT_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
        }
        # Migrations run once, as a deploy does; the roles only check the schema revision.
        subprocess.run([venv_bin("divert-warrants"), "migrate"], env=env, check=True)
        for role in ("api", "consumer"):
            with (self.data_dir / f"{role}.log").open("ab") as log:  # read it when a test fails
                process = subprocess.Popen(
                    [venv_bin("divert-warrants"), role],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.processes.append(process)
            if role == "api":
                wait_for_port(self.port, timeout=60, process=process)

    def stop(self) -> None:
        while self.processes:
            stop_process(self.processes.pop())

    def requests_for(self, referral_id: str) -> list[dict[str, object]]:
        """The warrant requests warrants holds for the referral, as a prosecutor lists them."""
        prosecutor = mint_token(IntakeSettings(), subject="prosecutor-test", role="prosecutor", jurisdiction="*")
        response = httpx.get(
            f"{self.url}/v1/warrant-requests",
            params={"referral_id": referral_id},
            headers={"Authorization": f"Bearer {prosecutor}"},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
def warrants(tmp_path: Path, kafka_bootstrap: str) -> Iterator[WarrantsProcess]:
    """Warrants on the session's broker, not started yet (`warrants.start()`); stopped after the test."""
    service = WarrantsProcess(free_port(), tmp_path / "warrants", kafka_bootstrap)
    service.data_dir.mkdir()
    yield service
    service.stop()


@dataclass
class TemporalProcess:
    """A Temporal dev server on its own SQLite file (so it can be restarted mid-test)."""

    port: int
    db_file: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Deleting a closed workflow waits for the transfer queue's ack level, updated every 30 s by
        # default: every second, a deletion (what namespace retention does) is over in moments.
        quick_deletes = ("--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="1s"')
        self.process = start_temporal(self.port, db_file=self.db_file, ui_port=None, extra_args=quick_deletes)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    async def connect(self) -> Client:
        """A client as intake's processes have one (pydantic payloads), in the default namespace.

        A server just (re)started listens before its frontend is healthy ("Frontend is not healthy
        yet"), the longer the busier the machine: connecting is retried for up to a minute.
        """
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(60), wait=wait_fixed(0.5), retry=retry_if_exception_type(RuntimeError), reraise=True
        ):
            with attempt:
                return await Client.connect(f"127.0.0.1:{self.port}", data_converter=pydantic_data_converter)
        raise AssertionError("unreachable: the last attempt returns or raises")


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[TemporalProcess]:
    """A running Temporal dev server, stopped after the test."""
    server = TemporalProcess(free_port(), tmp_path / "temporal.db")
    server.start()
    yield server
    server.stop()


Refer = Callable[[Intake, timedelta], Awaitable[DeadlineInput]]


def demo_submission(
    *, jurisdiction: str = "demo", referred_at: datetime | None = None, grams: float = 0.5
) -> SubmitReferral:
    """An officer's arrest diversion for the demo jurisdiction (or a copy of its policy under
    another id): 0.5 g, a clean screening, referred now unless `referred_at` says otherwise."""
    now = datetime.now(UTC)
    return SubmitReferral(
        referral_id=uuid4(),
        jurisdiction=jurisdiction,
        pathway="arrest_diversion",
        referred_at=referred_at or now,
        rms=RmsReference(agency="PD", case_number=uuid4().hex[:8], officer_id="1"),
        subject=Subject(given_name="Sam", family_name="Lee"),
        location=Location(),
        offense=Offense(category="drug_possession", drug_quantity_grams=grams),
        screening=Screening(
            amenable=True,
            dealing_for_profit=False,
            exploits_minors=False,
            promotes_prostitution=False,
            on_state_probation=False,
            in_treatment_court=False,
            no_contact_order_with_participant=False,
        ),
        contact_drivers=("drug_use",),
        at=now,
    )


async def submit_as_officer(intake: Intake, command: SubmitReferral) -> Referral:
    """Record the submission in intake as the officer's route does; the referral as submitted."""
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="officer-test", role="officer", agency="PD")
    async with uow:
        referral = (await handlers.submit_referral(command, uow)).referral
        await uow.commit()
    return referral


async def _refer(intake: Intake, due_in: timedelta) -> DeadlineInput:
    policy = intake.policies.latest("demo")
    assert policy is not None
    now = datetime.now(UTC)
    command = demo_submission(referred_at=now - policy.assessment_window + min(due_in, policy.assessment_window))
    referral = await submit_as_officer(intake, command)
    uow = intake.unit_of_work()
    if due_in > policy.assessment_window:  # beyond the demo's window: the program manager extends it
        uow.cause = Cause(actor="pm-demo", role="program_manager")
        async with uow:
            extension = ExtendDeadline(referral.id, now + due_in, "more time", at=datetime.now(UTC))
            referral = await handlers.extend_deadline(extension, uow)
            await uow.commit()
    assert referral.assessment_due_by is not None and referral.lapse_action is not None
    return DeadlineInput(
        referral_id=str(referral.id),
        jurisdiction="demo",
        assessment_due_by=referral.assessment_due_by,
        lapse_action=referral.lapse_action,
    )


@pytest.fixture
def refer() -> Refer:
    """`await refer(intake, due_in)`: record a demo arrest diversion (20-second window) in intake
    whose window ends `due_in` from now (negative: it ended already; longer than 20 seconds: the
    program manager extended it); its deadline as the clock would be started with."""
    return _refer


@pytest_asyncio.fixture
async def deadline_intake(database_url: str, warrants: WarrantsProcess, kafka_bootstrap: str) -> AsyncIterator[Intake]:
    """Intake over a migrated database, calling the warrants processes, its relay publishing its
    events to the session's broker as `divert-intake relay` does (so warrants hears of them)."""
    await migrate(database_url, MIGRATIONS)
    settings = IntakeSettings(database_url=database_url, warrants_url=warrants.url, kafka_bootstrap=kafka_bootstrap)
    parts = bootstrap(settings)
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, parts.sessions, stop, access=dataplane.service("intake")))
    yield parts
    stop.set()
    await relay
    await parts.engine.dispose()
