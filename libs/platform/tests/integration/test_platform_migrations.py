"""Migrations run once per deploy, under a lock; every other process only checks the revision.

Driven through a service's console script (`divert-warrants`), as an operator, a compose file or a
Kubernetes Job runs it: `migrate` runs started together take turns on the migration lock and all
succeed; a role started on an unmigrated or older database refuses with one line naming both
revisions; on PostgreSQL the service does its work as a role that may only read and write rows,
the role the deployments give every process but the migrations (deploy/compose/postgres/
init-databases.sh, whose functions make the roles here).
"""

import asyncio
import fcntl
import logging
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from divert_contracts.referrals import (
    Location,
    ReferralAccepted,
    ReferralAssessmentDeadlineLapsed,
    RmsReference,
    Subject,
)
from divert_platform.auth import mint_token
from divert_platform.cause import caused_by_event
from divert_platform.db import create_engine
from divert_platform.embedded import stop_process, venv_bin
from divert_platform.migrations import (
    SchemaBehind,
    SchemaRevision,
    migration_lock_file,
    migration_lock_key,
    require_head,
    schema_revision,
)
from divert_platform.replay import replay_outbox
from divert_platform.testing import POSTGRES_ENV
from divert_warrants.bootstrap import MIGRATIONS, bootstrap
from divert_warrants.config import WarrantsSettings
from divert_warrants.entrypoints.api import build_api
from divert_warrants.entrypoints.consumer import HANDLERS


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration for warrants' migrations (on `database_url` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


SCRIPT = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPT.get_current_head() or ""
"""Warrants' newest migration."""
BEHIND = str(SCRIPT.get_revision(HEAD).down_revision)
"""The one before it: the database of a service whose newest migration was not applied."""
RUNS = 4
"""`migrate` runs started together."""
INIT_SCRIPT = Path(__file__).resolve().parents[4] / "deploy" / "compose" / "postgres" / "init-databases.sh"
WAIT = 60.0
"""Longest wait for processes to reach a state (a bound, never what a test asserts)."""


def divert_warrants(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `divert-warrants <args>` with `env` as its only `DIVERT_*` settings."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("DIVERT_")}
    return subprocess.Popen(
        [venv_bin("divert-warrants"), *args],
        env={**inherited, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait for a process; its exit status and what it wrote to stderr."""
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr.decode()


def plain(url: str) -> str:
    """An asyncpg DSN for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_to(database_url: str, revision: str) -> None:
    command.upgrade(alembic_config(database_url), revision)


async def has_version_table(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
        return "alembic_version" in tables
    finally:
        await engine.dispose()


async def until(condition: Callable[[], Awaitable[bool]], processes: list[subprocess.Popen[bytes]], what: str) -> None:
    """Poll `condition()` until it holds; fail at once if a process ended meanwhile."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not await condition():
        ended = [p for p in processes if p.poll() is not None]
        assert not ended, f"a process ended before {what}: {[finish(p) for p in ended]}"
        assert asyncio.get_running_loop().time() < deadline, f"not seen within {WAIT} s: {what}"
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- holding the migration lock


@asynccontextmanager
async def postgres_lock_held(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """Hold warrants' migration lock on the database; yields the holding connection."""
    connection = await asyncpg.connect(plain(database_url))
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", migration_lock_key(MIGRATIONS))
        yield connection
    finally:
        await connection.close()


@contextmanager
def sqlite_lock_held(database: Path) -> Iterator[None]:
    """Hold the migration lock of a SQLite database."""
    with migration_lock_file(database).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def holds_open(process: subprocess.Popen[bytes], path: Path) -> bool:
    """Whether the process has `path` open (Linux: /proc/<pid>/fd)."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return False


# ---------------------------------------------------------------- (a) concurrent `migrate` runs


async def test_migrate_runs_started_together_take_turns_and_all_succeed(database_url: str, tmp_path: Path) -> None:
    env = {"DIVERT_DATABASE_URL": database_url, "DIVERT_DATA_DIR": str(tmp_path)}
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    runs: list[subprocess.Popen[bytes]] = []
    try:
        if postgres:
            async with postgres_lock_held(database_url) as holder:
                runs = [divert_warrants("migrate", env=env) for _ in range(RUNS)]

                async def all_waiting() -> bool:
                    waiting = await holder.fetchval(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    )
                    return bool(waiting == RUNS)

                await until(all_waiting, runs, f"{RUNS} runs waiting for the advisory lock")
                # while the lock is held, not one of them has touched the schema
                assert not await has_version_table(database_url)
        else:
            database = Path(str(make_url(database_url).database))
            database.parent.mkdir(parents=True, exist_ok=True)
            with sqlite_lock_held(database):
                runs = [divert_warrants("migrate", env=env) for _ in range(RUNS)]

                async def all_at_the_lock() -> bool:
                    return all(holds_open(run, migration_lock_file(database)) for run in runs)

                await until(all_at_the_lock, runs, f"{RUNS} runs at the lock file")
                assert not await has_version_table(database_url)
        results = [finish(run) for run in runs]
        assert [status for status, _ in results] == [0] * RUNS, results
        revision = await asyncio.to_thread(schema_revision, database_url, MIGRATIONS)
        assert (revision.current, revision.expected) == ((HEAD,), (HEAD,))
    finally:
        for run in runs:
            stop_process(run)


async def test_migrate_runs_without_anyone_holding_the_lock_all_succeed(database_url: str, tmp_path: Path) -> None:
    env = {"DIVERT_DATABASE_URL": database_url, "DIVERT_DATA_DIR": str(tmp_path)}
    runs = [divert_warrants("migrate", env=env) for _ in range(RUNS)]
    try:
        results = [finish(run) for run in runs]
    finally:
        for run in runs:
            stop_process(run)
    assert [status for status, _ in results] == [0] * RUNS, results
    revision = await asyncio.to_thread(schema_revision, database_url, MIGRATIONS)
    assert revision.current == (HEAD,)


# ---------------------------------------------------------------- (b) roles check, never migrate


@pytest.mark.parametrize("role", ["api", "relay", "consumer"])
def test_a_role_refuses_an_unmigrated_database_in_one_line(role: str, tmp_path: Path) -> None:
    database = tmp_path / "warrants.db"
    env = {"DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{database}", "DIVERT_DATA_DIR": str(tmp_path)}

    status, stderr = finish(divert_warrants(role, env=env))

    assert status == 1, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"divert-warrants {role}: refusing to start: the database is at revision none (never migrated), "
        f"this release expects {HEAD}: run `divert-warrants migrate` first"
    )
    assert "Traceback" not in stderr
    assert not database.exists()  # the check created nothing, let alone a schema


async def test_a_role_refuses_a_database_behind_the_release(database_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(alembic_to, database_url, BEHIND)
    env = {"DIVERT_DATABASE_URL": database_url, "DIVERT_DATA_DIR": str(tmp_path)}

    status, stderr = await asyncio.to_thread(finish, divert_warrants("consumer", env=env))

    assert status == 1, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"divert-warrants consumer: refusing to start: the database is at revision {BEHIND}, this release expects "
        f"{HEAD}: run `divert-warrants migrate` first"
    )
    revision = await asyncio.to_thread(schema_revision, database_url, MIGRATIONS)
    assert revision.current == (BEHIND,)  # the role did not migrate it


async def test_the_check_passes_at_the_head_and_ahead_of_it(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    def check() -> SchemaRevision:
        return require_head(database_url, MIGRATIONS, migrate_command="divert-warrants migrate")

    with pytest.raises(SchemaBehind):
        await asyncio.to_thread(check)
    await asyncio.to_thread(alembic_to, database_url, "head")
    at_head = await asyncio.to_thread(check)
    assert (at_head.current, at_head.expected, at_head.unknown) == ((HEAD,), (HEAD,), ())

    # A later release migrated the database (its migrations only add): this release still runs, and says so.
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))
    finally:
        await engine.dispose()
    with caplog.at_level(logging.WARNING, logger="divert_platform.migrations"):
        ahead = await asyncio.to_thread(check)
    assert (ahead.current, ahead.unknown, ahead.usable) == (("9001",), ("9001",), True)
    assert "9001, which this release does not know" in caplog.text


def test_each_service_migrates_under_its_own_lock() -> None:
    services = Path(MIGRATIONS).parents[3]
    keys = {migration_lock_key(path) for path in services.glob("*/src/divert_*/migrations")}
    assert len(keys) == 4


# ---------------------------------------------------------------- (c) the application role on PostgreSQL


@dataclass
class Roles:
    """A fresh database with its owner and its application role, made by the compose init script."""

    owner_url: str
    app_url: str


@pytest.fixture
def postgres_roles() -> Iterator[Roles]:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"{POSTGRES_ENV} is not set: the PostgreSQL tier runs in CI (.ci/run) or when you set it")
    admin = make_url(admin_url)
    name = f"divert_roles_{uuid4().hex[:10]}"
    owner, app = name, f"{name}_app"
    psql_env = {
        "PATH": os.environ["PATH"],
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        "PGPASSWORD": admin.password or "",
        "POSTGRES_USER": admin.username or "postgres",
        "DIVERT_INIT_FUNCTIONS_ONLY": "1",
    }
    script = (
        f'source "{INIT_SCRIPT}"\n'
        f'create_database {owner} "owner-password" {name}\n'
        f'create_app_role {app} "app-password" {name} {owner}\n'
    )

    def url(user: str, password: str) -> str:
        return admin.set(
            drivername="postgresql+asyncpg", username=user, password=password, database=name
        ).render_as_string(hide_password=False)

    try:
        done = subprocess.run(["bash", "-c", script], env=psql_env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"the init script's functions failed (psql is needed): {done.stderr}"
        yield Roles(owner_url=url(owner, "owner-password"), app_url=url(app, "app-password"))
    finally:
        asyncio.run(_drop(plain(admin_url), name, (app, owner)))


async def _drop(admin_dsn: str, database: str, roles: tuple[str, ...]) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in roles:
            await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await connection.close()


def referral_facts(referral_id: str) -> tuple[ReferralAccepted, ReferralAssessmentDeadlineLapsed]:
    """Intake's acceptance and recorded lapse of an arrest diversion: what warrants must have heard."""
    due = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)
    accepted = ReferralAccepted(
        referral_id=referral_id,
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=due - timedelta(days=30),
        policy="king-county",
        policy_version="2025-01-01",
        assessment_due_by=due,
        lapse_action="warrant_request",
        rms=RmsReference(agency="SPD", case_number="2025-000123", officer_id="officer-1"),
        subject=Subject(given_name="Alex", family_name="Example", phone="+1 206 555 0142"),
        location=Location(precinct="West"),
        offense_category="drug_possession",
    )
    lapsed = ReferralAssessmentDeadlineLapsed(
        referral_id=referral_id,
        jurisdiction="king-county",
        assessment_due_by=due,
        lapsed_at=due + timedelta(seconds=2),
        lapse_action="warrant_request",
    )
    return accepted, lapsed


async def test_postgres_processes_work_as_a_role_that_cannot_change_the_schema(
    postgres_roles: Roles, tmp_path: Path
) -> None:
    app_only = {"DIVERT_DATABASE_URL": postgres_roles.app_url, "DIVERT_DATA_DIR": str(tmp_path)}

    # The application role cannot migrate; `migrate` signs in as the owner when it is given the owner's URL.
    status, stderr = await asyncio.to_thread(finish, divert_warrants("migrate", env=app_only))
    assert status != 0 and "permission denied" in stderr, stderr
    with_owner = {**app_only, "DIVERT_MIGRATION_DATABASE_URL": postgres_roles.owner_url}
    status, stderr = await asyncio.to_thread(finish, divert_warrants("migrate", env=with_owner))
    assert status == 0, stderr

    # Every process's start-up check reads the revision as the application role.
    revision = await asyncio.to_thread(
        require_head, postgres_roles.app_url, MIGRATIONS, migrate_command="divert-warrants migrate"
    )
    assert revision.current == (HEAD,)

    # The service's work as the application role: the consumer's handlers, a request through the
    # API (events, outbox, idempotency key, read model, audit), reads, and re-publishing the outbox.
    warrants = bootstrap(WarrantsSettings(database_url=postgres_roles.app_url, kafka_bootstrap="127.0.0.1:1"))
    try:
        referral_id = str(uuid4())
        for event in referral_facts(referral_id):
            unit = warrants.unit_of_work()
            unit.cause = caused_by_event("/divert/intake", str(uuid4()), datetime.now(UTC))
            async with unit as uow:
                await HANDLERS[type(event)](event, uow)
                await uow.commit()
        _, lapsed = referral_facts(referral_id)
        worker = mint_token(warrants.settings, subject="divert-intake-worker", role="deadline_worker")
        prosecutor = mint_token(warrants.settings, subject="pao-1", role="prosecutor", jurisdiction="*")
        transport = httpx.ASGITransport(app=build_api(warrants))
        async with httpx.AsyncClient(transport=transport, base_url="http://warrants") as client:
            created = await client.post(
                "/v1/warrant-requests",
                json={
                    "referral_id": referral_id,
                    "jurisdiction": "king-county",
                    "kind": "warrant_request",
                    "assessment_due_by": lapsed.assessment_due_by.isoformat(),
                    "lapsed_at": lapsed.lapsed_at.isoformat(),
                },
                headers={"Authorization": f"Bearer {worker}", "Idempotency-Key": f"deadline-lapse-{referral_id}"},
            )
            assert created.status_code == 201, created.text
            listed = await client.get(
                "/v1/warrant-requests",
                params={"referral_id": referral_id},
                headers={"Authorization": f"Bearer {prosecutor}"},
            )
            assert listed.status_code == 200, listed.text
            assert [item["referral_id"] for item in listed.json()["items"]] == [referral_id]
        async with warrants.sessions() as session, session.begin():  # what the relay does once it sent them
            await session.execute(text("UPDATE outbox SET published_at = CURRENT_TIMESTAMP"))
        assert await replay_outbox(warrants.sessions) >= 1  # `divert-warrants replay`
    finally:
        await warrants.engine.dispose()

    # ... and no DDL at all.
    connection = await asyncpg.connect(plain(postgres_roles.app_url))
    try:
        for statement in (
            "CREATE TABLE probe (id integer)",
            "ALTER TABLE outbox ADD COLUMN probe integer",
            "CREATE INDEX probe ON outbox (topic)",
            "DROP TABLE outbox",
            "TRUNCATE outbox",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT count(*) FROM outbox") >= 1
    finally:
        await connection.close()
