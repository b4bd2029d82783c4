"""The deadline clock under faults, with real processes: the warrants API down during the lapse,
and the Temporal server restarted on its SQLite file in the middle of the window.

The worker under test is the one `divert-intake worker` runs (`bootstrap.build_worker`: the
workflow with intake's real activities over the intake database, the warrant check included, and
its HTTP client for warrants); warrants is the real `divert-warrants api` process, reached over
HTTP like in production.
"""

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.adapters.referral_views import find_status
from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import MIGRATIONS, Intake, bootstrap, build_worker, warrants_client
from divert_intake.config import IntakeSettings
from divert_intake.deadline.models import DeadlineInput, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.service_layer import handlers
from divert_platform.auth import mint_token
from divert_platform.cause import Cause
from divert_platform.embedded import free_port, start_temporal, stop_process, venv_bin, wait_for_port
from divert_platform.testing import migrate


@dataclass
class Warrants:
    """The warrants API as a separate process, started and stopped by the test."""

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DIVERT_PORT": str(self.port),
            "DIVERT_DATA_DIR": str(self.data_dir),
            "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir / 'warrants.db'}",
            "DIVERT_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        }
        self.process = subprocess.Popen(
            [venv_bin("divert-warrants"), "api"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=60, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def requests_for(self, referral_id: str) -> list[dict[str, object]]:
        prosecutor = mint_token(IntakeSettings(), subject="prosecutor-test", role="prosecutor")
        response = httpx.get(
            f"{self.url}/v1/warrant-requests",
            params={"referral_id": referral_id},
            headers={"Authorization": f"Bearer {prosecutor}"},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
def warrants(tmp_path: Path) -> Iterator[Warrants]:
    service = Warrants(free_port(), tmp_path / "warrants")
    service.data_dir.mkdir()
    yield service
    service.stop()


@pytest_asyncio.fixture
async def intake(tmp_path: Path, warrants: Warrants) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(url, MIGRATIONS)
    parts = bootstrap(IntakeSettings(database_url=url, warrants_url=warrants.url, kafka_bootstrap="127.0.0.1:1"))
    yield parts
    await parts.engine.dispose()


@dataclass
class Temporal:
    port: int
    db_file: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_temporal(self.port, db_file=self.db_file, ui_port=None)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[Temporal]:
    server = Temporal(free_port(), tmp_path / "temporal.db")
    server.start()
    yield server
    server.stop()


async def refer(intake: Intake, due_in: timedelta) -> DeadlineInput:
    """Record a demo arrest diversion in intake whose 20-second window ends `due_in` from now."""
    policy = intake.policies.latest("demo")
    assert policy is not None
    command = SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="demo",
        pathway="arrest_diversion",
        referred_at=datetime.now(UTC) - policy.assessment_window + due_in,
        rms=RmsReference(agency="PD", case_number=uuid4().hex[:8], officer_id="1"),
        subject=Subject(given_name="Sam", family_name="Lee"),
        location=Location(),
        offense=Offense(category="drug_possession", drug_quantity_grams=0.5),
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
        at=datetime.now(UTC),
    )
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="officer-test", role="officer", agency="PD")
    async with uow:
        referral = (await handlers.submit_referral(command, uow)).referral
        await uow.commit()
    assert referral.assessment_due_by is not None and referral.lapse_action is not None
    return DeadlineInput(
        referral_id=str(referral.id),
        jurisdiction="demo",
        assessment_due_by=referral.assessment_due_by,
        lapse_action=referral.lapse_action,
    )


async def connect(temporal: Temporal) -> Client:
    return await Client.connect(f"127.0.0.1:{temporal.port}", data_converter=pydantic_data_converter)


async def status_of(intake: Intake, referral_id: str) -> str | None:
    async with intake.sessions() as session:
        row = await find_status(session, UUID(referral_id))
    return row["status"] if row else None


async def test_warrants_down_during_the_lapse_delays_the_request_and_never_loses_or_doubles_it(
    intake: Intake, warrants: Warrants, temporal: Temporal
) -> None:
    client = await connect(temporal)
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        deadline = await refer(intake, due_in=timedelta(seconds=1))
        await TemporalDeadlineClock(client).start(deadline)
        # The lapse is recorded in intake while warrants is still unreachable...
        async with asyncio.timeout(30):
            while await status_of(intake, deadline.referral_id) != "lapsed":  # noqa: ASYNC110 - polling a database
                await asyncio.sleep(0.2)
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        await asyncio.sleep(3)  # ...and request attempts keep failing meanwhile
        assert (await handle.query(ReferralDeadlineWorkflow.status)).state == "lapsing"
        warrants.start()
        async with asyncio.timeout(60):
            result = await handle.result()
    assert result.outcome == "lapsed"
    [request] = warrants.requests_for(deadline.referral_id)
    assert request["warrant_request_id"] == result.warrant_request_id


async def test_the_timer_survives_a_temporal_restart_mid_window(
    intake: Intake, warrants: Warrants, temporal: Temporal
) -> None:
    warrants.start()
    deadline = await refer(intake, due_in=timedelta(seconds=8))
    client = await connect(temporal)
    await TemporalDeadlineClock(client).start(deadline)

    temporal.stop()  # the server goes away mid-window; its SQLite file keeps the timer
    await asyncio.sleep(1)
    temporal.start()

    client = await connect(temporal)
    async with warrants_client(intake.settings) as http, build_worker(intake, client, http):
        handle = client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
        async with asyncio.timeout(60):
            result = await handle.result()
    assert result.outcome == "lapsed"
    assert datetime.now(UTC) >= deadline.assessment_due_by
    assert len(warrants.requests_for(deadline.referral_id)) == 1
    assert await status_of(intake, deadline.referral_id) == "lapsed"
