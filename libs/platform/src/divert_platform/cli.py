"""The command line every service offers: `divert-<svc> migrate | api | replay | purge | <role>...`."""

import asyncio
import importlib
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from divert_contracts.topics import ALL_TOPICS
from divert_platform.all_roles import RoleFailed, RoleMain, api_role, run_roles
from divert_platform.db import create_engine, create_session_factory
from divert_platform.metrics import configure_metrics
from divert_platform.migrations import SchemaBehind, require_head, upgrade_to_head
from divert_platform.process import run_until_stopped
from divert_platform.replay import replay_outbox
from divert_platform.retention import run_purge
from divert_platform.roles import serve_api
from divert_platform.settings import ServiceSettings
from divert_platform.telemetry import configure_telemetry


def build_cli(
    *,
    help: str,
    settings_type: type[ServiceSettings],
    migrations: Path,
    api_factory: str,
    roles: Mapping[str, tuple[str, str]],
) -> typer.Typer:
    """A Typer app with `migrate`, `api`, `replay`, `purge`, one command per long-running role, and
    `all`, which runs the API and every role as tasks of one process (`all_roles`).

    `roles` maps a command name to (module with `async def main(stop)`, help text). Every role
    configures telemetry and checks that `migrate` brought the database to this release's revision
    before it starts; only `migrate` changes the schema (under a lock, with its own connection URL).
    """
    app = typer.Typer(help=help, no_args_is_help=True)

    def start(role: str) -> ServiceSettings:
        settings = settings_type()
        configure_metrics(settings.service_name, role, port=settings.metrics_port, host=settings.metrics_host)
        configure_telemetry(
            settings.service_name, role, otlp_endpoint=settings.otlp_endpoint, data_dir=settings.data_dir
        )
        script = f"divert-{settings.service_name}"
        try:
            require_head(settings.database_url, migrations, migrate_command=f"{script} migrate")
        except SchemaBehind as error:
            typer.echo(f"{script} {role}: refusing to start: {error}", err=True)
            raise typer.Exit(1) from error
        return settings

    @app.command()
    def migrate() -> None:
        """Apply the database migrations and exit (safe to run several at once: they take turns).

        Connects with `DIVERT_MIGRATION_DATABASE_URL` (the role that owns the schema) when it is
        set, else with `DIVERT_DATABASE_URL`."""
        settings = settings_type()
        upgrade_to_head(settings.migration_database_url or settings.database_url, migrations)

    @app.command()
    def api() -> None:
        """Serve the REST API."""
        serve_api(api_factory, start("api"))

    @app.command(help=_REPLAY_HELP)
    def replay(
        since: Annotated[
            str | None,
            typer.Option(help="Only events created at or after this ISO-8601 time (UTC unless it has an offset)."),
        ] = None,
        topic: Annotated[str | None, typer.Option(help="Only events of this topic.")] = None,
    ) -> None:
        """Mark the service's outbox rows unpublished so that its running relay publishes them again."""
        moment = _parse_since(since)
        if topic is not None and topic not in {t.name for t in ALL_TOPICS}:
            raise typer.BadParameter(f"unknown topic {topic!r}", param_hint="--topic")
        count = asyncio.run(_replay(settings_type().database_url, since=moment, topic=topic))
        typer.echo(f"marked {count} outbox rows for re-publishing; the running relay publishes them")

    @app.command(help=_PURGE_HELP)
    def purge(
        every: Annotated[
            float | None,
            typer.Option(min=1, help="Keep running: purge again every this many seconds until SIGINT or SIGTERM."),
        ] = None,
    ) -> None:
        """Delete what is past its retention period (docs/operations.md, "Retention")."""
        settings = start("purge")
        run_until_stopped(partial(run_purge, settings, every=every))

    for name, (module, text) in roles.items():
        app.command(name=name, help=text)(_role_command(name, module, start))

    @app.command(name="all")
    def all_roles(
        migrate: Annotated[
            bool, typer.Option("--migrate", help="Apply the migrations first, as `migrate` does (the embedded stack).")
        ] = False,
    ) -> None:
        """Run the API and every other role as tasks of one process (`make run` does); a role that
        fails stops the process. Production runs one process per role, after `migrate`."""
        if migrate:
            settings = settings_type()
            upgrade_to_head(settings.migration_database_url or settings.database_url, migrations)
        settings = start("all")
        mains: dict[str, RoleMain] = {"api": api_role(api_factory, settings)}
        mains |= {name: importlib.import_module(module).main for name, (module, _) in roles.items()}
        try:
            run_until_stopped(partial(run_roles, mains))
        except RoleFailed as failure:
            typer.echo(f"divert-{settings.service_name} all: {failure}", err=True)
            raise typer.Exit(1) from failure

    return app


_REPLAY_HELP = (
    "Publish the service's events again: marks its outbox rows (optionally only since a time, only of one "
    "topic) unpublished, and the running relay re-publishes them in their original order.\n\n"
    "Safe to run: every consumer de-duplicates by CloudEvents source and id, so events it already applied "
    "are skipped. Use it when downstream lost events; the relay re-publishes a topic the broker lost by itself."
)


_PURGE_HELP = (
    "Delete what is kept only for a while: idempotency responses, inbox rows, published outbox rows and "
    "audit records older than their DIVERT_RETENTION_*_DAYS, in batches; never an unpublished outbox row. "
    "Runs once, or with --every until stopped (a Kubernetes CronJob runs it hourly)."
)


def _parse_since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        return datetime.fromisoformat(since)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO-8601 time: {since!r}", param_hint="--since") from error


async def _replay(database_url: str, *, since: datetime | None, topic: str | None) -> int:
    engine = create_engine(database_url)
    try:
        return await replay_outbox(create_session_factory(engine), since=since, topic=topic)
    finally:
        await engine.dispose()


def _role_command(name: str, module: str, start: Callable[[str], ServiceSettings]) -> Callable[[], None]:
    def command() -> None:
        start(name)
        run_until_stopped(importlib.import_module(module).main)

    return command
